"""Conditional writes: a condition that refuses a write is an answer (nothing was written), not an error."""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import DeleteError, PutError, UpdateError

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
