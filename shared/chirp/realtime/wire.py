"""Chirp's own frames: `{"stream": [name], "event": "update" | "notification" | "delete", "payload": ...}`, the
shape of Mastodon's streaming API with the payload as an object (a tweet as the REST API writes it, a
notification, or a deleted tweet's ids) rather than a string of JSON."""

from __future__ import annotations

import json

from chirp.notifications.model import Notification
from chirp.realtime.model import Connection, Event, Stream
from chirp.tweets.model import Tweet


def frame(stream: Stream, event: Event, payload: object) -> str:
    return json.dumps({"stream": [stream.value], "event": event.value, "payload": payload}, separators=(",", ":"))


class ChirpFrames:
    """The payloads are Chirp's models, the same at every base URL."""

    def tweet(self, event: Event, stream: Stream, tweet: Tweet, base_url: str) -> str:
        if event is Event.DELETE:
            return frame(stream, event, {"tweet_id": tweet.tweet_id, "tweet_id_str": tweet.tweet_id_str})
        return frame(stream, event, tweet.model_dump(mode="json", exclude={"deleted"}))

    def notifies(self, connection: Connection) -> bool:
        return True

    def notification(self, notification: Notification, stream: Stream, base_url: str) -> str:
        return frame(stream, Event.NOTIFICATION, notification.model_dump(mode="json"))
