"""Conditional writes: a condition that refuses a write is an answer (nothing was written), not an error."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

REFUSED = "ConditionalCheckFailedException"


def written(write: Callable[[], object]) -> bool:
    """Runs one conditional put, update or delete: True when it was written, False when its condition refused it.
    Any other failure is raised."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as error:
        if error.cause_response_code != REFUSED:
            raise
        return False
    return True


def updated(item: Model, actions: list, condition) -> bool:
    """One conditional update of `item`: True when made, False when its condition refused it."""
    return written(partial(item.update, actions=actions, condition=condition))
