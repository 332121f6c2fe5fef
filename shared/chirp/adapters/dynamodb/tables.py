"""pynamodb models of the tables. Table names and endpoint come from Settings at bind time."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chirp.adapters.aws import session
from chirp.settings import Settings

OUTBOX_SHARDS = 8  # spreads the sparse outbox index over several partitions


class UserTweetsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "user_tweets"
        projection = AllProjection()

    author_id = UnicodeAttribute(hash_key=True)
    tweet_id = NumberAttribute(range_key=True)


class OutboxIndex(GlobalSecondaryIndex):
    """Sparse: only tweets whose stream publish is not yet confirmed carry outbox_shard."""

    class Meta:
        index_name = "outbox"
        projection = KeysOnlyProjection()

    outbox_shard = NumberAttribute(hash_key=True)
    tweet_id = NumberAttribute(range_key=True)


class TweetItem(Model):
    class Meta:
        table_name = "chirp-tweets"

    tweet_id = NumberAttribute(hash_key=True)
    author_id = UnicodeAttribute()
    text = UnicodeAttribute()
    created_at_ms = NumberAttribute()
    reply_to_id = NumberAttribute(null=True)
    reply_to_author_id = UnicodeAttribute(null=True)
    quote_tweet_id = NumberAttribute(null=True)
    hashtags = ListAttribute(of=UnicodeAttribute, default=list)
    mentions = ListAttribute(of=UnicodeAttribute, default=list)
    media_ids = ListAttribute(of=UnicodeAttribute, default=list)
    deleted = BooleanAttribute(default=False)
    retweet_of_id = NumberAttribute(null=True)
    outbox_shard = NumberAttribute(null=True)
    user_tweets = UserTweetsIndex()
    outbox = OutboxIndex()


class InvertedIndex(GlobalSecondaryIndex):
    """sk -> pk: e.g. FOLLOWS#b -> every USER#a that follows b."""

    class Meta:
        index_name = "inverted"
        projection = KeysOnlyProjection()

    sk = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class SocialItem(Model):
    """Adjacency list: USER#id/PROFILE, USER#a/FOLLOWS#b, USER#a/BLOCKS#b, USER#a/MUTES#b, HANDLE#h/HANDLE."""

    class Meta:
        table_name = "chirp-social"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    handle = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute(null=True)
    followers_count = NumberAttribute(null=True)
    following_count = NumberAttribute(null=True)
    tweets_count = NumberAttribute(null=True)
    created_at_ms = NumberAttribute(null=True)
    inverted = InvertedIndex()


class NotificationItem(Model):
    """One notification of one recipient, newest first by id; DynamoDB's TTL deletes it after the retention.

    An aggregated notification (likes or retweets of one tweet) also has a state item, under the recipient's
    AGGREGATES# partition (never read as notifications) at a key derived from (tweet, kind): it says where the
    notification shows now (`current_id`) and carries a version for optimistic updates."""

    class Meta:
        table_name = "chirp-notifications"

    user_id = UnicodeAttribute(hash_key=True)
    notification_id = NumberAttribute(range_key=True)
    kind = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    tweet_id = NumberAttribute(null=True)
    at_ms = NumberAttribute()
    expires_at = NumberAttribute()  # epoch seconds: the table's TTL attribute
    actor_ids = ListAttribute(of=UnicodeAttribute, null=True)
    count = NumberAttribute(null=True)
    current_id = NumberAttribute(null=True)  # aggregate state: the notification's id now
    version = NumberAttribute(null=True)  # aggregate state


class LikesByTweetIndex(GlobalSecondaryIndex):
    """Sparse: the like edges of a tweet, newest first (only edges that are likes carry like_order)."""

    class Meta:
        index_name = "likes_by_tweet"
        projection = KeysOnlyProjection()

    tweet_id = NumberAttribute(hash_key=True)
    like_order = NumberAttribute(range_key=True)


class RetweetsByTweetIndex(GlobalSecondaryIndex):
    """Sparse: the retweet edges of a tweet, newest first (by the retweet's id)."""

    class Meta:
        index_name = "retweets_by_tweet"
        projection = KeysOnlyProjection()

    tweet_id = NumberAttribute(hash_key=True)
    retweet_id = NumberAttribute(range_key=True)


class LikesByUserIndex(GlobalSecondaryIndex):
    """Sparse: what a user liked, most recently liked first."""

    class Meta:
        index_name = "likes_by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    like_order = NumberAttribute(range_key=True)


class BookmarksByUserIndex(GlobalSecondaryIndex):
    """Sparse: what a user bookmarked, most recently bookmarked first."""

    class Meta:
        index_name = "bookmarks_by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    bookmark_order = NumberAttribute(range_key=True)


class EngagementItem(Model):
    """Engagements, one table of four kinds of item:
    - EDGE#{user}/TWEET#{tweet}: what one user did to one tweet (like_order when liked, retweet_id when retweeted,
      bookmark_order when bookmarked);
    - COUNT#{tweet}#{shard}/COUNT: one shard of a tweet's counter (shard 0 also says how many shards there are);
    - CHILD#{tweet}/{reply_count|quote_count}: a reply or quote counted on its parent (counted while it lives);
    - OUTBOX#{n}/{order}#...: an event not yet confirmed on the engagements stream."""

    class Meta:
        table_name = "chirp-engagements"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    tweet_id = NumberAttribute(null=True)
    like_order = NumberAttribute(null=True)
    liked_at_ms = NumberAttribute(null=True)
    retweet_id = NumberAttribute(null=True)
    bookmark_order = NumberAttribute(null=True)
    like_count = NumberAttribute(null=True)
    retweet_count = NumberAttribute(null=True)
    reply_count = NumberAttribute(null=True)
    quote_count = NumberAttribute(null=True)
    shards = NumberAttribute(null=True)
    parent_id = NumberAttribute(null=True)
    counted = BooleanAttribute(null=True)
    event = UnicodeAttribute(null=True)
    likes_by_tweet = LikesByTweetIndex()
    retweets_by_tweet = RetweetsByTweetIndex()
    likes_by_user = LikesByUserIndex()
    bookmarks_by_user = BookmarksByUserIndex()


class ClientItem(Model):
    """What third-party clients register and hold, one item each: APP#<client_id> (an app, its secret hashed),
    TOKEN#<sha256> (what an access token grants), MEDIA#<media_id> (an upload's description),
    MARKER#<user_id>#<timeline> (a reading position; `version` counts its saves). `body` is the item's JSON."""

    class Meta:
        table_name = "chirp-clients"

    pk = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute()
    version = NumberAttribute(null=True)


class MediaItem(Model):
    """An issued media id (chirp.media.MediaRecord): the ticket, its transcoding outcome (`result`, JSON) and the
    tweet it is attached to. DynamoDB's TTL forgets it at `expires_at` unless attaching removed that."""

    class Meta:
        table_name = "chirp-media"

    media_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size_bytes = NumberAttribute()
    created_at_ms = NumberAttribute()
    expires_at = NumberAttribute(null=True)  # epoch seconds: the table's TTL attribute
    alt_text = UnicodeAttribute(null=True)
    tweet_id = NumberAttribute(null=True)
    result = UnicodeAttribute(null=True)
    upload_id = UnicodeAttribute(null=True)  # a multipart upload's, until completed
    tries = NumberAttribute(null=True)  # transcodes started since the last outcome


class ConnectionItem(Model):
    """A client's WebSocket connection (chirp.realtime): whose it is, how its events are written, what it
    receives; DynamoDB's TTL deletes it once API Gateway must have closed it."""

    class Meta:
        table_name = "chirp-connections"

    connection_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    wire = UnicodeAttribute()
    streams = ListAttribute(of=UnicodeAttribute)
    connected_at_ms = NumberAttribute()
    scopes = ListAttribute(of=UnicodeAttribute, default=list)  # a Mastodon token's
    base_url = UnicodeAttribute(null=True)  # the Mastodon instance URL the client reached
    hashtags = ListAttribute(default=list)  # Mastodon's hashtag subscriptions: [stream, hashtag] pairs
    expires_at = NumberAttribute()  # epoch seconds: the table's TTL attribute


class LeaseItem(Model):
    """A Snowflake worker slot's lease: who holds it (a random token) and until when (epoch ms)."""

    class Meta:
        table_name = "chirp-leases"

    slot = NumberAttribute(hash_key=True)
    token = UnicodeAttribute()
    expires_at_ms = NumberAttribute()


def bind_tables(settings: Settings) -> None:
    """Points the models at this environment's tables (names are generated by CloudFormation)."""
    for model, table in (
        (TweetItem, settings.tweets_table),
        (SocialItem, settings.social_table),
        (NotificationItem, settings.notifications_table),
        (LeaseItem, settings.leases_table),
        (ClientItem, settings.clients_table),
        (EngagementItem, settings.engagements_table),
        (MediaItem, settings.media_table),
        (ConnectionItem, settings.connections_table),
    ):
        model.Meta.table_name = table
        model.Meta.region = settings.region
        model.Meta.host = settings.aws_endpoint_url
        model._connection = None  # drop a connection made for another table name
        share_session(model._get_connection().connection)


def share_session(connection: Connection) -> None:
    """Gives a pynamodb connection the process's one botocore session: pynamodb makes a session per connection,
    and each costs tens of milliseconds of a cold start (loading service models and credentials again). Set
    for the thread that binds (Lambda's); another thread still makes its own, as pynamodb's are per thread."""
    connection._local.session = session()
