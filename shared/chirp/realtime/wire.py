"""Chirp's own frames: `{"stream": [name], "event": "update" | "notification" | "delete", "payload": ...}`, the
shape of Mastodon's streaming API with the payload as an object (a tweet as the REST API writes it, a
notification, or a deleted tweet's ids) rather than a string of JSON."""

from __future__ import annotations

import json

from chirp.notifications.model import Notification
from chirp.realtime.model import Connection, Event, Stream
from chirp.tweets.model import Tweet


def frame(stream: Stream, event: Event, payload: object, hashtag: str | None = None) -> str:
    """A hashtag stream's frames name the hashtag after the stream, as Mastodon's: `["hashtag", "cats"]`."""
    named = [stream.value, hashtag] if hashtag else [stream.value]
    return json.dumps({"stream": named, "event": event.value, "payload": payload}, separators=(",", ":"))


class ChirpFrames:
    """The payloads are Chirp's models, the same at every base URL."""

    def tweet(self, event: Event, stream: Stream, tweet: Tweet, base_url: str, hashtag: str | None = None) -> str:
        if event is Event.DELETE:
            return frame(stream, event, {"tweet_id": tweet.tweet_id, "tweet_id_str": tweet.tweet_id_str}, hashtag)
        return frame(stream, event, tweet.model_dump(mode="json", exclude={"deleted"}), hashtag)

    def notifies(self, connection: Connection) -> bool:
        return True

    def notification(self, notification: Notification, stream: Stream, base_url: str) -> str:
        return frame(stream, Event.NOTIFICATION, notification.model_dump(mode="json"))
