"""The social graph in DynamoDB: profiles, unique handles, follow edges with their counts."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chirp.adapters.dynamodb.cursor import query_page
from chirp.adapters.dynamodb.notification_store import notification_item
from chirp.adapters.dynamodb.tables import SocialItem, share_session
from chirp.errors import Conflict
from chirp.notifications.model import Notification
from chirp.social.model import Profile, Relation
from chirp.social.ports import FollowCheck

PROFILE = "PROFILE"


def user_key(user_id: str) -> str:
    return f"USER#{user_id}"


def _edge(kind: Relation, target: str) -> str:
    return f"{kind}#{target}"


def _connection() -> Connection:
    return _connection_for(SocialItem.Meta.region, SocialItem.Meta.host)


@cache
def _connection_for(region: str | None, host: str | None) -> Connection:
    """Built once per endpoint: a Connection creates its botocore client, which costs tens of ms."""
    connection = Connection(region=region, host=host)
    share_session(connection)
    return connection


class SocialStore:
    def create_profile(self, profile: Profile) -> None:
        """Claims the handle and creates the profile atomically: a handle belongs to one user."""
        item = SocialItem(
            pk=user_key(profile.user_id), sk=PROFILE, **profile.model_dump(exclude={"user_id"}), user_id=profile.user_id
        )
        claim = SocialItem(pk=f"HANDLE#{profile.handle.lower()}", sk="HANDLE", user_id=profile.user_id)
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.save(item, condition=SocialItem.pk.does_not_exist())
                transaction.save(claim, condition=SocialItem.pk.does_not_exist())
        except TransactWriteError as error:
            # One reason per item, in order (None where that item was fine): the profile's, then the handle's.
            if _condition_failed_at(error, 0):
                raise Conflict("this user already has a profile") from error
            if _condition_failed_at(error, 1):
                raise Conflict(f"handle @{profile.handle} is taken") from error
            raise

    def get_profile(self, user_id: str) -> Profile | None:
        try:
            item = SocialItem.get(user_key(user_id), PROFILE)
        except DoesNotExist:
            return None
        return _to_profile(item)

    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        keys = [(user_key(user_id), PROFILE) for user_id in set(user_ids)]
        return {item.user_id: _to_profile(item) for item in SocialItem.batch_get(keys)}

    def created_at_ms(self, user_ids: list[str]) -> dict[str, int]:
        """When each known user made their profile (trends weigh new accounts less)."""
        return {user_id: profile.created_at_ms for user_id, profile in self.get_profiles(user_ids).items()}

    def user_id_for_handle(self, handle: str) -> str | None:
        try:
            return SocialItem.get(f"HANDLE#{handle.lower()}", "HANDLE").user_id
        except DoesNotExist:
            return None

    def add_edge(self, kind: Relation, source: str, target: str, *, counted: bool) -> bool:
        """Creates source -kind-> target; False if it existed (idempotent). Follows also move the counts."""
        edge = SocialItem(pk=user_key(source), sk=_edge(kind, target))
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.save(edge, condition=SocialItem.pk.does_not_exist())
                if counted:
                    self._count(transaction, source, target, +1)
        except TransactWriteError as error:
            if _condition_failed_at(error, 0):
                return False
            raise
        return True

    def follow_check(self, follower_id: str, followee_id: str) -> FollowCheck:
        """One BatchGetItem: both profiles, the blocks either way and the followee's mute of the follower."""
        keys = {
            "follower": (user_key(follower_id), PROFILE),
            "followee": (user_key(followee_id), PROFILE),
            "follower_blocks": (user_key(follower_id), _edge(Relation.BLOCKS, followee_id)),
            "followee_blocks": (user_key(followee_id), _edge(Relation.BLOCKS, follower_id)),
            "followee_mutes": (user_key(followee_id), _edge(Relation.MUTES, follower_id)),
        }
        found = {(item.pk, item.sk): item for item in SocialItem.batch_get(list(keys.values()))}
        follower, followee = found.get(keys["follower"]), found.get(keys["followee"])
        return FollowCheck(
            follower=_to_profile(follower) if follower else None,
            followee=_to_profile(followee) if followee else None,
            follower_blocks=keys["follower_blocks"] in found,
            followee_blocks=keys["followee_blocks"] in found,
            followee_mutes=keys["followee_mutes"] in found,
        )

    def add_follow(self, follower_id: str, followee_id: str, notification: Notification | None) -> bool:
        """One TransactWriteItems: the edge (only if new), both counts, the followee's notification."""
        edge = SocialItem(pk=user_key(follower_id), sk=_edge(Relation.FOLLOWS, followee_id))
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.save(edge, condition=SocialItem.pk.does_not_exist())
                self._count(transaction, follower_id, followee_id, +1)
                if notification is not None:
                    transaction.save(notification_item(followee_id, notification))
        except TransactWriteError as error:
            if _condition_failed_at(error, 0):
                return False
            raise
        return True

    def remove_edge(self, kind: Relation, source: str, target: str, *, counted: bool) -> bool:
        edge = SocialItem(pk=user_key(source), sk=_edge(kind, target))
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.delete(edge, condition=SocialItem.pk.exists())
                if counted:
                    self._count(transaction, source, target, -1)
        except TransactWriteError as error:
            if _condition_failed_at(error, 0):
                return False
            raise
        return True

    @staticmethod
    def _count(transaction: TransactWrite, follower: str, followee: str, delta: int) -> None:
        transaction.update(
            SocialItem(pk=user_key(follower), sk=PROFILE), actions=[SocialItem.following_count.add(delta)]
        )
        transaction.update(
            SocialItem(pk=user_key(followee), sk=PROFILE), actions=[SocialItem.followers_count.add(delta)]
        )

    def add_tweets_count(self, user_id: str, delta: int) -> None:
        SocialItem(pk=user_key(user_id), sk=PROFILE).update(actions=[SocialItem.tweets_count.add(delta)])

    def has_edge(self, kind: Relation, source: str, target: str) -> bool:
        try:
            SocialItem.get(user_key(source), _edge(kind, target))
        except DoesNotExist:
            return False
        return True

    def sources_among(self, kinds: tuple[Relation, ...], sources: list[str], target: str) -> set[str]:
        """Those of `sources` with an edge of one of `kinds` to `target`: batch reads, 100 keys a call."""
        keys = [(user_key(source), _edge(kind, target)) for source in set(sources) for kind in kinds]
        return {item.pk.split("#", 1)[1] for item in SocialItem.batch_get(keys, attributes_to_get=["pk"])}

    def targets(
        self, kind: Relation, source: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[str], str | None]:
        """Whom `source` follows/blocks/mutes: one page."""
        items, next_cursor = query_page(
            lambda start_key: SocialItem.query(
                user_key(source), SocialItem.sk.startswith(f"{kind}#"), limit=limit, last_evaluated_key=start_key
            ),
            cursor,
        )
        return [item.sk.split("#", 1)[1] for item in items], next_cursor

    def sources(
        self, kind: Relation, target: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[str], str | None]:
        """Who follows/blocks/mutes `target`: one page, through the inverted index."""
        items, next_cursor = query_page(
            lambda start_key: SocialItem.inverted.query(_edge(kind, target), limit=limit, last_evaluated_key=start_key),
            cursor,
        )
        return [item.pk.split("#", 1)[1] for item in items], next_cursor

    def all_targets(self, kind: Relation, source: str) -> Iterator[str]:
        cursor = None
        while True:
            ids, cursor = self.targets(kind, source, limit=1000, cursor=cursor)
            yield from ids
            if not cursor:
                return

    def all_sources_pages(self, kind: Relation, target: str, page_size: int) -> Iterator[list[str]]:
        cursor = None
        while True:
            ids, cursor = self.sources(kind, target, limit=page_size, cursor=cursor)
            if ids:
                yield ids
            if not cursor:
                return


def _condition_failed_at(error: TransactWriteError, item: int) -> bool:
    """Whether the transaction's `item`-th write was refused by its condition."""
    reasons = error.cancellation_reasons or []
    return len(reasons) > item and reasons[item] is not None and reasons[item].code == "ConditionalCheckFailed"


def _to_profile(item: SocialItem) -> Profile:
    return Profile(
        user_id=item.user_id,
        handle=item.handle,
        display_name=item.display_name or item.handle,
        followers_count=int(item.followers_count or 0),
        following_count=int(item.following_count or 0),
        tweets_count=int(item.tweets_count or 0),
        created_at_ms=int(item.created_at_ms or 0),
    )
