"""A client's WebSocket connection and the events pushed to it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Wire(StrEnum):
    """How a connection's events are written: Chirp's JSON, or Mastodon's streaming entities."""

    CHIRP = "chirp"
    MASTODON = "mastodon"


class Stream(StrEnum):
    """What a connection subscribes to (Mastodon's stream names): `user` is the home timeline and notifications,
    `user:notification` the notifications alone; `public` and `public:local` every new public tweet (the same tweets:
    Chirp is one instance and federates with none, so its whole public timeline is its local one); `hashtag` and
    `hashtag:local` (alike, for the same reason) the new public tweets that carry one hashtag, named with it;
    `public:media` and `public:local:media` the new public tweets that carry media."""

    USER = "user"
    USER_NOTIFICATION = "user:notification"
    PUBLIC = "public"
    PUBLIC_LOCAL = "public:local"
    PUBLIC_MEDIA = "public:media"
    PUBLIC_LOCAL_MEDIA = "public:local:media"
    HASHTAG = "hashtag"
    HASHTAG_LOCAL = "hashtag:local"


NOTIFIED_STREAMS = (Stream.USER, Stream.USER_NOTIFICATION)
PUBLIC_STREAMS = (Stream.PUBLIC, Stream.PUBLIC_LOCAL, Stream.PUBLIC_MEDIA, Stream.PUBLIC_LOCAL_MEDIA)
MEDIA_STREAMS = (Stream.PUBLIC_MEDIA, Stream.PUBLIC_LOCAL_MEDIA)  # of the public streams, those for media only
HASHTAG_STREAMS = (Stream.HASHTAG, Stream.HASHTAG_LOCAL)
MAX_HASHTAGS = 100  # hashtag subscriptions a connection may hold: each is indexed, and carried in its record


class Event(StrEnum):
    UPDATE = "update"
    NOTIFICATION = "notification"
    DELETE = "delete"


class Connection(BaseModel):
    connection_id: str
    user_id: str
    wire: Wire = Wire.CHIRP
    streams: list[Stream] = [Stream.USER]
    connected_at_ms: int = 0
    # Mastodon's: the token's scopes (a stream is subscribed within them) and the instance URL the client reached,
    # on which its entities' links are built.
    scopes: list[str] = []
    base_url: str = ""
    # Hashtag subscriptions: (`hashtag` or `hashtag:local`, the hashtag lower-cased as tweets carry it).
    hashtags: list[tuple[Stream, str]] = []


class Delivery(BaseModel):
    """What one push did: events sent, connections found gone (and dropped), posts that failed otherwise."""

    sent: int = 0
    gone: int = 0
    failed: int = 0

    def __add__(self, other: Delivery) -> Delivery:
        return Delivery(sent=self.sent + other.sent, gone=self.gone + other.gone, failed=self.failed + other.failed)
