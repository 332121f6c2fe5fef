"""Likes and retweets, the events they put on the engagements stream, the counts every tweet carries, and the
shapes in which the API returns tweets with them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, computed_field

from chirp.media.model import MediaView
from chirp.notifications.model import Notification
from chirp.social.model import Profile
from chirp.tweets.model import Tweet


class Kind(StrEnum):
    """The engagements a user has with a tweet: at most one of each per (user, tweet)."""

    LIKE = "like"
    RETWEET = "retweet"


class EngagementEvent(BaseModel):
    """One change of an engagement, as the engagements stream carries it (partition key: the user, so one user's
    changes stay in order). Consumers act on the edge's current state, which they read again: an event says
    which (user, tweet, kind) to look at, so a replayed or reordered event cannot undo a later change."""

    kind: Kind
    user_id: str
    tweet_id: int  # always an original tweet: a retweet of a retweet engages the original
    author_id: str  # the tweet's author: whom the notification goes to
    active: bool  # liked / retweeted (True), or undone (False)
    at_ms: int
    order: int  # Snowflake-shaped: orders likes newest first, and names the event in the outbox
    retweet_id: int | None = None  # the retweet's own id (a timeline entry), for retweet events

    @property
    def key(self) -> tuple[str, int]:
        return self.user_id, self.tweet_id


@dataclass(frozen=True)
class Edge:
    """What one user did to one tweet, as DynamoDB holds it now."""

    user_id: str
    tweet_id: int
    liked: bool = False
    like_order: int | None = None
    retweet_id: int | None = None
    bookmark_order: int | None = None  # when bookmarked: orders the user's bookmarks, newest first

    @property
    def retweeted(self) -> bool:
        return self.retweet_id is not None

    @property
    def bookmarked(self) -> bool:
        return self.bookmark_order is not None


class Applied(BaseModel):
    """What the engagements consumer did for one tweet that connected clients are told: the retweet entries delivered
    (or taken back: marked deleted), and the aggregated notifications someone in the batch moved to the top, by
    recipient (Aggregate.recipient_id), a replayed batch's included (clients tell events apart by id)."""

    retweets: list[Tweet] = []
    notifications: list[tuple[str, Notification]] = []


class Counts(BaseModel):
    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0
    quote_count: int = 0

    def plus(self, other: Counts) -> Counts:
        return Counts(**{field: getattr(self, field) + getattr(other, field) for field in Counts.model_fields})


COUNT_FIELDS = tuple(Counts.model_fields)


class EngagementState(BaseModel):
    """The answer of a like, unlike, retweet or unretweet: the caller's engagement with the tweet now."""

    user_id: str
    tweet_id: int
    kind: Kind
    active: bool
    retweet_id: int | None = None


class BookmarkState(BaseModel):
    """The answer of a bookmark or its removal: whether the caller's bookmark of the tweet stands now. A bookmark is
    the caller's alone: nobody is told, nothing is counted."""

    user_id: str
    tweet_id: int
    bookmarked: bool


class TweetView(Tweet):
    """A tweet as the API returns it: with its counts and what the caller did to it."""

    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    liked: bool = False
    retweeted: bool = False
    bookmarked: bool = False
    media: list[MediaView] = []  # its media_ids hydrated: type, variant URLs and sizes, alt text


class PostView(TweetView):
    """A tweet of a user's own timeline (or read alone): a retweet carries the tweet it shows."""

    retweeted_tweet: TweetView | None = None


class PostPage(BaseModel):
    items: list[PostView]
    next_cursor: str | None = None


class EntryView(BaseModel):
    """One home timeline or search entry: a tweet with its author; for a retweet, the tweet retweeted (with its
    author) and who retweeted it ("X retweeted"). `entry_id` is the entry's own id: the retweet's, or the tweet's."""

    entry_id: int
    tweet: TweetView
    author: Profile | None = None
    retweeted_by: Profile | None = None

    @computed_field
    @property
    def entry_id_str(self) -> str:
        """The id as a string too: it exceeds 2**53 (JavaScript clients would round the number)."""
        return str(self.entry_id)


class EntryPage(BaseModel):
    items: list[EntryView]
    next_cursor: str | None = None


class NotificationView(Notification):
    """A notification with the tweet it is about, counted like every tweet (None when it is gone, or a follow)."""

    tweet: TweetView | None = None


class NotificationViewPage(BaseModel):
    items: list[NotificationView]
    next_cursor: str | None = None
