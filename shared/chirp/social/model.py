"""A user's profile and pages of users, as the social graph returns them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Relation(StrEnum):
    """The kinds of edge from one user to another."""

    FOLLOWS = "FOLLOWS"
    BLOCKS = "BLOCKS"
    MUTES = "MUTES"


HIDING = (Relation.BLOCKS, Relation.MUTES)  # relations that hide the target's tweets and notifications


class Profile(BaseModel):
    # Frozen: a home read shares one parsed profile between reads (see chirp.adapters.redis.parsed_entries).
    model_config = ConfigDict(frozen=True)

    user_id: str
    handle: str
    display_name: str
    followers_count: int = 0
    following_count: int = 0
    tweets_count: int = 0
    created_at_ms: int = 0


class UserPage(BaseModel):
    user_ids: list[str]
    next_cursor: str | None = None
