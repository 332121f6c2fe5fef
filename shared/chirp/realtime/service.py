"""Pushing to connected clients: who receives a new tweet, a deletion or a notification, and delivering it.

A new tweet goes where fan-out puts it (its author's home timeline and its followers', less those who mute the
author), but only to users who are connected, for every tier: the smaller side is walked. An author with fewer
followers than there are connected users has their follower pages read and matched against the connected
index; for a celebrity the connected users are read in pages and checked for following the author in batches,
so a push never walks millions of followers to find the few connected. Every `public:local` connection
receives every new tweet too. A deletion goes to the same audience.

Delivery posts to API Gateway's @connections API with bounded concurrency (a slow connection holds one of
`max_in_flight` workers, never the others); a connection found gone (410) is dropped from the store and the
index; any other failure is counted and does not stop the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Protocol

from chirp.errors import InvalidInput, NotFound
from chirp.notifications.model import Notification
from chirp.observability import logger
from chirp.realtime.model import (
    HASHTAG_STREAMS,
    MAX_HASHTAGS,
    MEDIA_STREAMS,
    NOTIFIED_STREAMS,
    PUBLIC_STREAMS,
    Connection,
    Delivery,
    Event,
    Stream,
    Wire,
)
from chirp.realtime.ports import ConnectedIndex, ConnectionStore, FollowGraph, Gateway, Gone
from chirp.tweets.model import Tweet

PAGE_SIZE = 1000  # users read or checked per round trip when looking for connected followers
CONNECTION_TTL_S = 2 * 3600  # API Gateway closes a WebSocket after 2 hours at most
# How often a process looks for the connected index's marker: each look is a Redis round trip on every push (a
# follow's notification included), and a lost index is rare; pushes in the seconds after a loss reach only who
# connected again since, as any push is best effort.
INDEX_CHECK_S = 5


class Renderer(Protocol):
    """Writes an event as one wire's frame, for one stream and the base URL its connections reached (Mastodon's
    links are built on it); None when there is nothing to show (the author's profile is gone)."""

    def tweet(
        self, event: Event, stream: Stream, tweet: Tweet, base_url: str, hashtag: str | None = None
    ) -> str | None:
        """`hashtag`: the one a hashtag stream is named with."""
        ...

    def notification(self, notification: Notification, stream: Stream, base_url: str) -> str | None: ...
    def notifies(self, connection: Connection) -> bool:
        """Whether the connection's user streams carry notifications (Mastodon's: only within the token's
        scopes)."""
        ...


def parse_streams(names: Iterable[str]) -> list[Stream]:
    """Stream names as a Chirp client sends them (hashtag streams are Mastodon's: they need a hashtag each);
    InvalidInput naming an unknown one."""
    known = [stream for stream in Stream if stream not in HASHTAG_STREAMS]
    streams: list[Stream] = []
    for name in names:
        stream = next((s for s in known if s.value == name), None)
        if stream is None:
            raise InvalidInput(f"unknown stream {name!r}: use one of {', '.join(known)}")
        if stream not in streams:
            streams.append(stream)
    if not streams:
        raise InvalidInput("subscribe to at least one stream")
    return streams


class Realtime:
    def __init__(
        self,
        store: ConnectionStore,
        index: ConnectedIndex,
        gateway: Gateway,
        graph: FollowGraph,
        renderers: Mapping[Wire, Renderer],
        *,
        max_in_flight: int = 16,
        ttl_s: int = CONNECTION_TTL_S,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ):
        self.store, self.index, self.gateway, self.graph = store, index, gateway, graph
        self.renderers, self.max_in_flight, self.ttl_s, self.clock_ms = renderers, max_in_flight, ttl_s, clock_ms
        self._index_checked_ms: int | None = None

    # --- connections ---------------------------------------------------------------------------------------
    def connect(
        self,
        connection_id: str,
        user_id: str,
        wire: Wire,
        streams: list[Stream],
        *,
        scopes: tuple[str, ...] = (),
        base_url: str = "",
        hashtags: list[tuple[Stream, str]] | None = None,
    ) -> Connection:
        connection = Connection(
            connection_id=connection_id,
            user_id=user_id,
            wire=wire,
            streams=streams,
            connected_at_ms=self.clock_ms(),
            scopes=list(scopes),
            base_url=base_url,
            hashtags=_checked(hashtags or []),
        )
        self._save(connection)
        return connection

    def connection(self, connection_id: str) -> Connection:
        connection = self.store.get(connection_id)
        if connection is None:
            raise NotFound("no such connection")
        return connection

    def subscribe(
        self, connection_id: str, streams: list[Stream], hashtags: list[tuple[Stream, str]] | None = None
    ) -> Connection:
        """Replaces what the connection receives: its streams, and its hashtags when given."""
        connection = self.connection(connection_id)
        changes = {"streams": streams} if hashtags is None else {"streams": streams, "hashtags": _checked(hashtags)}
        updated = connection.model_copy(update=changes)
        self.index.remove(connection)
        self._save(updated)
        return updated

    def disconnect(self, connection_id: str) -> None:
        connection = self.store.get(connection_id)
        if connection is not None:
            self._drop(connection)

    def _save(self, connection: Connection) -> None:
        expires_at_s = (connection.connected_at_ms // 1000) + self.ttl_s
        self.store.put(connection, expires_at_s)  # the truth first: the index can be rebuilt from it
        self.index.add(connection, self.ttl_s)

    def _drop(self, connection: Connection) -> None:
        self.index.remove(connection)
        self.store.delete(connection.connection_id)

    def answer(self, connection_id: str, frame: str) -> None:
        """Sends one connection the answer to its frame (gone: nothing to answer)."""
        try:
            self.gateway.post(connection_id, frame.encode())
        except Gone:
            self.disconnect(connection_id)

    def ensure_index(self) -> None:
        """Rebuilds the connected index from the table when Redis lost it (a flush, a failover without the data),
        as timelines are rebuilt: lazily, by the first push that finds its marker gone, under a lock; the others
        push to what the index holds meanwhile. Without it, only clients that connect again would be reached. Looked
        for at most every INDEX_CHECK_S by a process."""
        now_ms = self.clock_ms()
        if self._index_checked_ms is not None and now_ms - self._index_checked_ms < INDEX_CHECK_S * 1000:
            return
        self._index_checked_ms = now_ms
        if not self.index.needs_rebuild():
            return
        now_s = now_ms // 1000
        live = sorted(self.store.live(now_s), key=lambda item: item[1])  # a user's latest expiry is added last
        self.index.rebuilt([(connection, expires_at_s - now_s) for connection, expires_at_s in live])
        logger.info("connected index rebuilt", extra={"connections": len(live)})

    # --- pushes --------------------------------------------------------------------------------------------
    def tweet_posted(self, tweet: Tweet) -> Delivery:
        return self._push_tweet(Event.UPDATE, tweet)

    def tweet_deleted(self, tweet: Tweet) -> Delivery:
        return self._push_tweet(Event.DELETE, tweet)

    def notified(self, notifications: Mapping[str, Notification]) -> Delivery:
        """`notifications` by recipient: each goes to the recipient's connections, once on each user stream they
        subscribe to (`user`, `user:notification`)."""
        self.ensure_index()
        connections = self.index.connections_of(list(notifications))
        frames: dict[tuple[Wire, Stream, str, str], str | None] = {}

        def frame(user_id: str, connection: Connection, stream: Stream) -> tuple[Connection, str | None]:
            key = (connection.wire, stream, connection.base_url, user_id)
            if key not in frames:  # rendered only for the wires, streams and base URLs its recipient is connected with
                renderer = self.renderers[connection.wire]
                frames[key] = renderer.notification(notifications[user_id], stream, connection.base_url)
            return connection, frames[key]

        return self._deliver(
            frame(user_id, connection, stream)
            for user_id, user_connections in connections.items()
            for connection in user_connections
            if self.renderers[connection.wire].notifies(connection)
            for stream in NOTIFIED_STREAMS
            if stream in connection.streams
        )

    def _push_tweet(self, event: Event, tweet: Tweet) -> Delivery:
        self.ensure_index()
        frames: dict[tuple[Wire, Stream, str | None, str], str | None] = {}

        def frame(connection: Connection, stream: Stream, hashtag: str | None = None) -> tuple[Connection, str | None]:
            key = (connection.wire, stream, hashtag, connection.base_url)
            if key not in frames:  # rendered once per wire, stream and base URL, whatever the audience
                renderer = self.renderers[connection.wire]
                frames[key] = renderer.tweet(event, stream, tweet, connection.base_url, hashtag)
            return connection, frames[key]

        home = [
            frame(connection, Stream.USER)
            for connection in self.home_audience(tweet.author_id)
            if Stream.USER in connection.streams
        ]
        original = tweet.retweet_of_id is None
        # As Mastodon's public timelines: no retweets (those are for their retweeter's followers), no replies to others.
        for_public = original and not tweet.replies_to_someone_else
        public = [
            frame(connection, stream)
            for connection in (self.index.public_connections() if for_public else [])
            for stream in PUBLIC_STREAMS
            if stream in connection.streams and (tweet.media_ids or stream not in MEDIA_STREAMS)
        ]
        tagged = self.index.hashtag_connections(tweet.hashtags) if original and tweet.hashtags else {}
        hashtag = [
            frame(connection, stream, followed)
            for tag, connections in tagged.items()
            for connection in connections
            for stream, followed in connection.hashtags
            if followed == tag
        ]
        return self._deliver([*home, *public, *hashtag])

    def home_audience(self, author_id: str) -> list[Connection]:
        """The connections of the connected users whose home timeline shows the author's tweets: the author and
        their followers, less those who mute the author."""
        audience = self.index.connections_of([author_id]).get(author_id, [])
        for page in self._connected_follower_pages(author_id):
            connected = self.index.connections_of(page)
            if not connected:
                continue
            hiding = self.graph.hiding_among(author_id, list(connected))
            audience.extend(
                connection
                for user_id, connections in connected.items()
                if user_id not in hiding
                for connection in connections
            )
        return audience

    def _connected_follower_pages(self, author_id: str) -> Iterator[list[str]]:
        """Pages of user ids that hold every connected follower of the author, walking the smaller side (none when
        nobody is connected: no follower count read)."""
        connected = self.index.connected_users()
        if not connected:
            return
        if self.graph.followers_count(author_id) <= connected:
            yield from self.graph.follower_pages(author_id, PAGE_SIZE)
            return
        for page in self.index.connected_user_pages(PAGE_SIZE):
            followers = self.graph.followers_among(author_id, page)
            if followers:
                yield sorted(followers)

    # --- delivery ------------------------------------------------------------------------------------------
    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="push")

    def _deliver(self, frames: Iterable[tuple[Connection, str | None]]) -> Delivery:
        return sum(self._pool.map(self._post, [(c, f) for c, f in frames if f is not None]), Delivery())

    def _post(self, item: tuple[Connection, str]) -> Delivery:
        connection, frame = item
        try:
            self.gateway.post(connection.connection_id, frame.encode())
        except Gone:
            self._drop(connection)
            return Delivery(gone=1)
        except Exception:  # noqa: BLE001 - one connection's failure never stops the others' pushes
            logger.exception("push failed", extra={"connection_id": connection.connection_id})
            return Delivery(failed=1)
        return Delivery(sent=1)


def _checked(hashtags: list[tuple[Stream, str]]) -> list[tuple[Stream, str]]:
    """Each subscription once, at most MAX_HASHTAGS."""
    unique = list(dict.fromkeys(hashtags))
    if len(unique) > MAX_HASHTAGS:
        raise InvalidInput(f"a connection follows at most {MAX_HASHTAGS} hashtags")
    return unique
