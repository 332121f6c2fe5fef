"""Profiles, follows, blocks and mutes. DynamoDB is the source of truth; Timelines keeps Redis in step."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from chirp.errors import Forbidden, InvalidInput, NotFound
from chirp.notifications.model import Notification
from chirp.notifications.service import follow_notification
from chirp.paging import check_limit
from chirp.social.model import Profile, Relation, UserPage
from chirp.social.ports import SocialStore
from chirp.timelines.rules import Timelines

_HANDLE = re.compile(r"[A-Za-z0-9_]{3,15}")


class SocialService:
    def __init__(
        self,
        social: SocialStore,
        timelines: Timelines,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        on_notified: Callable[[str, Notification], None] = lambda recipient_id, notification: None,
    ):
        self.social, self.timelines, self.clock_ms = social, timelines, clock_ms
        # Told of each notification a follow stored, by recipient, once it is stored (the composition root pushes
        # it to the recipient's connected clients, best effort).
        self.on_notified = on_notified

    def create_profile(self, user_id: str, handle: str, display_name: str) -> Profile:
        if not _HANDLE.fullmatch(handle):
            raise InvalidInput("handle must be 3-15 letters, digits or underscores")
        name = display_name.strip()
        if not 1 <= len(name) <= 50:
            raise InvalidInput("display_name must be 1-50 characters")
        profile = Profile(user_id=user_id, handle=handle, display_name=name, created_at_ms=self.clock_ms())
        self.social.create_profile(profile)
        return profile

    def profile(self, user_id: str) -> Profile:
        profile = self.social.get_profile(user_id)
        if profile is None:
            raise NotFound(f"user {user_id} not found")
        return profile

    def by_handle(self, handle: str) -> Profile:
        """The profile of a handle, in any letter case (handles are unique regardless of case)."""
        user_id = self.social.user_id_for_handle(handle.lower()) if _HANDLE.fullmatch(handle) else None
        if user_id is None:
            raise NotFound(f"no user has the handle @{handle[:64]}")
        return self.profile(user_id)

    def by_handles(self, handles: list[str]) -> dict[str, Profile]:
        """The profiles of the handles (lower-cased) that exist, by lower-cased handle."""
        user_ids = {}
        for handle in dict.fromkeys(h.lower() for h in handles if _HANDLE.fullmatch(h)):
            user_id = self.social.user_id_for_handle(handle)
            if user_id is not None:
                user_ids[handle] = user_id
        profiles = self.profiles(list(user_ids.values()))
        return {handle: profiles[user_id] for handle, user_id in user_ids.items() if user_id in profiles}

    def profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        """The profiles of these users that exist, by user id."""
        return self.social.get_profiles(list(dict.fromkeys(user_ids))) if user_ids else {}

    def relationship(self, user_id: str, other_id: str) -> dict[Relation | str, bool]:
        """Every edge between the two, each way: FOLLOWS, BLOCKS, MUTES from `user_id`, and followed_by /
        blocked_by from `other_id`."""
        edge = self.social.has_edge
        return {
            Relation.FOLLOWS: edge(Relation.FOLLOWS, user_id, other_id),
            Relation.BLOCKS: edge(Relation.BLOCKS, user_id, other_id),
            Relation.MUTES: edge(Relation.MUTES, user_id, other_id),
            "followed_by": edge(Relation.FOLLOWS, other_id, user_id),
            "blocked_by": edge(Relation.BLOCKS, other_id, user_id),
        }

    def follow(self, follower_id: str, followee_id: str) -> bool:
        """Three DynamoDB calls: one read (both profiles, the blocks either way, the followee's mute), one write
        (the edge, both counts and the followee's notification, unless muted) and the backfill's query."""
        if follower_id == followee_id:
            raise InvalidInput("you cannot follow yourself")
        check = self.social.follow_check(follower_id, followee_id)
        if check.follower is None:
            raise Forbidden("create your profile (POST /users) first")
        if check.followee is None:
            raise NotFound(f"user {followee_id} not found")
        if check.follower_blocks:
            raise Forbidden("you block this user: unblock them first")
        if check.followee_blocks:
            raise Forbidden("this user blocks you")
        notification = None if check.followee_mutes else follow_notification(follower_id, self.clock_ms())
        created = self.social.add_follow(follower_id, followee_id, notification)
        # The tier from the count just read, with this follow: a follow racing it may be counted at the next one.
        followers = check.followee.followers_count + (1 if created else 0)
        self.timelines.on_follow(follower_id, followee_id, followers)  # also on a repeat: heals Redis after a crash
        if created and notification is not None:  # last: the follow's own work never waits for a push
            self.on_notified(followee_id, notification)
        return created

    def unfollow(self, follower_id: str, followee_id: str) -> bool:
        self._check_pair(follower_id, followee_id)
        removed = self.social.remove_edge(Relation.FOLLOWS, follower_id, followee_id, counted=True)
        self.timelines.on_unfollow(follower_id, followee_id)
        self.timelines.on_profiles_changed(follower_id, followee_id)
        return removed

    def block(self, user_id: str, target_id: str) -> None:
        """Blocking also ends the follows between the two, both ways."""
        self._check_pair(user_id, target_id, verb="block")
        self.social.add_edge(Relation.BLOCKS, user_id, target_id, counted=False)
        for follower, followee in ((user_id, target_id), (target_id, user_id)):
            if self.social.remove_edge(Relation.FOLLOWS, follower, followee, counted=True):
                self.timelines.on_unfollow(follower, followee)
        self.timelines.on_hide(Relation.BLOCKS, user_id, target_id, hidden=True)
        self.timelines.on_profiles_changed(user_id, target_id)

    def unblock(self, user_id: str, target_id: str) -> None:
        self._check_pair(user_id, target_id, verb="unblock")
        self.social.remove_edge(Relation.BLOCKS, user_id, target_id, counted=False)
        self.timelines.on_hide(Relation.BLOCKS, user_id, target_id, hidden=False)

    def mute(self, user_id: str, target_id: str) -> None:
        self._check_pair(user_id, target_id, verb="mute")
        self.social.add_edge(Relation.MUTES, user_id, target_id, counted=False)
        self.timelines.on_hide(Relation.MUTES, user_id, target_id, hidden=True)

    def unmute(self, user_id: str, target_id: str) -> None:
        self._check_pair(user_id, target_id, verb="unmute")
        self.social.remove_edge(Relation.MUTES, user_id, target_id, counted=False)
        self.timelines.on_hide(Relation.MUTES, user_id, target_id, hidden=False)

    def follows(self, follower_id: str, followee_id: str) -> bool:
        """Raises NotFound for an unknown user, looked up only when there is no follow: a follow is only
        ever made between two profiles."""
        if self.social.has_edge(Relation.FOLLOWS, follower_id, followee_id):
            return True
        self.profile(follower_id)
        self.profile(followee_id)
        return False

    def followers(self, user_id: str, *, cursor: str | None, limit: int) -> UserPage:
        self._check_page(user_id, limit)
        ids, next_cursor = self.social.sources(Relation.FOLLOWS, user_id, limit=limit, cursor=cursor)
        return UserPage(user_ids=ids, next_cursor=next_cursor)

    def following(self, user_id: str, *, cursor: str | None, limit: int) -> UserPage:
        return self.related(Relation.FOLLOWS, user_id, cursor=cursor, limit=limit)

    def related(self, kind: Relation, user_id: str, *, cursor: str | None, limit: int) -> UserPage:
        """The users `user_id` follows, blocks or mutes (`kind`), a page at a time."""
        self._check_page(user_id, limit)
        ids, next_cursor = self.social.targets(kind, user_id, limit=limit, cursor=cursor)
        return UserPage(user_ids=ids, next_cursor=next_cursor)

    def _check_page(self, user_id: str, limit: int) -> None:
        check_limit(limit)
        self.profile(user_id)

    def _check_pair(self, actor_id: str, target_id: str, verb: str = "follow") -> None:
        if actor_id == target_id:
            raise InvalidInput(f"you cannot {verb} yourself")
        if self.social.get_profile(actor_id) is None:
            raise Forbidden("create your profile (POST /users) first")
        self.profile(target_id)
