"""Mastodon's streaming API on Chirp's push machinery (chirp.realtime): the frames a connection that speaks
Mastodon receives, and the frames it sends.

Events are written as Mastodon's streaming server writes them: `{"stream": ["user"], "event": "update",
"payload": "<the Status as a string of JSON>"}`, a notification's payload the Notification as a string, a
deletion's the status id. The entities are the REST API's (chirp.mastodon.views), built on the instance URL the
connection reached. A client subscribes with `{"type": "subscribe", "stream": "user"}` (a hashtag stream with its
`"tag"`; a hashtag stream's frames are named `["hashtag", "<hashtag>"]`) and unsubscribes the same way; what Chirp
cannot serve is answered `{"error": ..., "status": ...}`, as Mastodon does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol

from chirp.errors import Forbidden, InvalidInput
from chirp.notifications.model import Notification
from chirp.oauth.service import allows
from chirp.realtime.model import HASHTAG_STREAMS, Connection, Event, Stream
from chirp.realtime.wire import frame
from chirp.tweets.model import Tweet
from chirp.tweets.text import hashtag_named

# What a token needs to read each stream (Mastodon's checkScopes): the public ones need none. The user stream
# carries notifications only for a token that may read them.
NOTIFICATION_SCOPES = ("read", "read:notifications")
STREAM_SCOPES = {
    Stream.USER: ("read", "read:statuses"),
    Stream.USER_NOTIFICATION: NOTIFICATION_SCOPES,
    Stream.PUBLIC: (),
    Stream.PUBLIC_LOCAL: (),
    Stream.PUBLIC_MEDIA: (),
    Stream.PUBLIC_LOCAL_MEDIA: (),
    Stream.HASHTAG: (),
    Stream.HASHTAG_LOCAL: (),
}


class StatusViews(Protocol):
    """chirp.mastodon.views.Views, for one base URL and no viewer (a push is the same for every recipient)."""

    def posts(self, tweets: list[Tweet]) -> list[dict]: ...
    def notifications(self, found: list[Notification]) -> list[dict]: ...


def error_frame(message: str, status: int) -> str:
    return json.dumps({"error": message, "status": status}, separators=(",", ":"))


class MastodonFrames:
    def __init__(self, views: Callable[[str], StatusViews]):
        self.views = views

    def tweet(
        self, event: Event, stream: Stream, tweet: Tweet, base_url: str, hashtag: str | None = None
    ) -> str | None:
        if event is Event.DELETE:
            return frame(stream, event, str(tweet.tweet_id), hashtag)
        statuses = self.views(base_url).posts([tweet])  # a retweet is a reblog of its original
        return frame(stream, event, _json(statuses[0]), hashtag) if statuses else None

    def notifies(self, connection: Connection) -> bool:
        return any(allows(connection.scopes, scope) for scope in NOTIFICATION_SCOPES)

    def notification(self, notification: Notification, stream: Stream, base_url: str) -> str | None:
        rendered = self.views(base_url).notifications([notification])
        return frame(stream, Event.NOTIFICATION, _json(rendered[0])) if rendered else None


def _json(entity: dict) -> str:
    return json.dumps(entity, separators=(",", ":"), ensure_ascii=False)


def stream_named(name: object) -> Stream:
    """A stream as a Mastodon client names it (the `stream` parameter, or a frame's `stream`, which may be a list
    whose first item counts, as Mastodon reads it)."""
    if isinstance(name, list) and name:
        name = name[0]
    try:
        return Stream(name)
    except ValueError:
        raise InvalidInput("Unknown stream type") from None


def check_scopes(stream: Stream, scopes: list[str]) -> None:
    """Forbidden when the token's scopes do not cover the stream (Mastodon answers it 401)."""
    needed = STREAM_SCOPES[stream]
    if needed and not any(allows(scopes, scope) for scope in needed):
        raise Forbidden("Access token does not cover required scopes")


def hashtag_of(stream: Stream, tag: object) -> str | None:
    """A hashtag stream's hashtag as the client named it (`tag`, with or without its #), lower-cased as tweets carry
    it; None for the other streams. InvalidInput when a hashtag stream has none, as Mastodon answers."""
    if stream not in HASHTAG_STREAMS:
        return None
    if isinstance(tag, list) and tag:
        tag = tag[0]
    if not isinstance(tag, str) or not tag.strip():
        raise InvalidInput("No tag for stream provided")
    return hashtag_named(tag)


def subscription(message: object) -> tuple[bool, Stream, str | None]:
    """A client's frame: (True to subscribe / False to unsubscribe, the stream, its hashtag for a hashtag stream);
    InvalidInput otherwise."""
    if not isinstance(message, dict) or message.get("type") not in ("subscribe", "unsubscribe"):
        streams = ", ".join(f'"{stream}"' for stream in Stream)
        raise InvalidInput(f'send {{"type": "subscribe" or "unsubscribe", "stream": one of {streams}}}')
    stream = stream_named(message.get("stream"))
    return message["type"] == "subscribe", stream, hashtag_of(stream, message.get("tag"))


def subscribed(
    connection: Connection, subscribing: bool, stream: Stream, hashtag: str | None
) -> tuple[list[Stream], list[tuple[Stream, str]]]:
    """The connection's streams and hashtags once a subscribe or unsubscribe frame is applied (subscribing to what it
    has already changes nothing)."""
    if hashtag is not None:
        return connection.streams, _toggled(connection.hashtags, (stream, hashtag), subscribing)
    return _toggled(connection.streams, stream, subscribing), connection.hashtags


def _toggled[T](items: list[T], item: T, present: bool) -> list[T]:
    if present:
        return items if item in items else [*items, item]
    return [kept for kept in items if kept != item]
