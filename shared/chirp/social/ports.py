"""What the social rules need from the social graph's store (DynamoDB)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from chirp.notifications.model import Notification
from chirp.social.model import Profile, Relation


@dataclass(frozen=True)
class FollowCheck:
    """What a follow reads first, in one call: both profiles, and the edges that refuse or silence it."""

    follower: Profile | None
    followee: Profile | None
    follower_blocks: bool  # the follower blocks the followee
    followee_blocks: bool  # the followee blocks the follower
    followee_mutes: bool  # the followee mutes the follower: no notification


class SocialStore(Protocol):
    def create_profile(self, profile: Profile) -> None:
        """Claims the handle and creates the profile atomically; Conflict when either exists."""
        ...

    def get_profile(self, user_id: str) -> Profile | None: ...
    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]: ...
    def user_id_for_handle(self, handle: str) -> str | None: ...
    def add_edge(self, kind: Relation, source: str, target: str, *, counted: bool) -> bool:
        """Creates the edge; False when it existed. A counted edge (a follow) moves both profiles' counts."""
        ...

    def follow_check(self, follower_id: str, followee_id: str) -> FollowCheck:
        """One read."""
        ...

    def add_follow(self, follower_id: str, followee_id: str, notification: Notification | None) -> bool:
        """The follow, both profiles' counts and the followee's notification (if any), in one write; False (and
        nothing written) when the follow existed."""
        ...

    def remove_edge(self, kind: Relation, source: str, target: str, *, counted: bool) -> bool: ...
    def has_edge(self, kind: Relation, source: str, target: str) -> bool: ...
    def targets(
        self, kind: Relation, source: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[str], str | None]: ...
    def sources(
        self, kind: Relation, target: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[str], str | None]: ...
    def all_targets(self, kind: Relation, source: str) -> Iterator[str]: ...
    def all_sources_pages(self, kind: Relation, target: str, page_size: int) -> Iterator[list[str]]: ...
    def add_tweets_count(self, user_id: str, delta: int) -> None: ...
