"""Posting, reading and deleting tweets. A tweet is stored with its outbox mark and counted (one transaction), then
published (the stream): two calls. The fan-out consumer confirms each tweet it receives (takes it out of the
outbox, off the request's path); the relay re-publishes any still unconfirmed after the grace period (a crash
between the two calls, or a publish lost)."""

from __future__ import annotations

import time
from collections.abc import Callable

from chirp.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from chirp.ids.snowflake import snowflake_timestamp_ms
from chirp.paging import check_limit
from chirp.social.ports import SocialStore
from chirp.timelines.rules import Timelines
from chirp.tweets.model import MAX_MEDIA, Tweet
from chirp.tweets.ports import AuthorUnknown, IdSource, MediaAttachments, MediaTaken, Publisher, TweetStore
from chirp.tweets.text import hashtags, mentions, normalize_text

# How long a tweet may wait for the fan-out consumer's confirmation before the relay publishes it again: well
# above the consumer's normal lag (about a second), so a published tweet is rarely published twice (consumers are
# idempotent, so a second publish only costs work).
OUTBOX_GRACE_MS = 60_000
NO_PROFILE = "create your profile (POST /users) before posting"


class TweetService:
    def __init__(
        self,
        store: TweetStore,
        social: SocialStore,
        timelines: Timelines,
        publisher: Publisher,
        ids: IdSource,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        media: MediaAttachments | None = None,
    ):
        self.store, self.social, self.timelines, self.publisher, self.ids = store, social, timelines, publisher, ids
        self.clock_ms, self.media = clock_ms, media

    def post(
        self,
        author_id: str,
        text: str,
        reply_to_id: int | None = None,
        quote_tweet_id: int | None = None,
        media_ids: list[str] | None = None,
    ):
        clean = normalize_text(text)
        parent = self._referenced("reply_to_id", reply_to_id)
        quoted = self._referenced("quote_tweet_id", quote_tweet_id)
        media_ids = self._check_media(author_id, media_ids or [])  # last: it keeps the variants it accepts
        tweet = Tweet(
            tweet_id=self.ids.next_id(),
            author_id=author_id,
            text=clean,
            created_at_ms=self.clock_ms(),
            reply_to_id=parent.tweet_id if parent else None,
            reply_to_author_id=parent.author_id if parent else None,
            quote_tweet_id=quoted.tweet_id if quoted else None,
            hashtags=hashtags(clean),
            mentions=mentions(clean),
            media_ids=media_ids,
        )
        try:
            self.store.create(tweet)  # the profile is checked and the media claimed in the same call
        except AuthorUnknown:
            raise Forbidden(NO_PROFILE) from None
        except MediaTaken as taken:
            raise Conflict(f"media {taken}: attached to another tweet meanwhile") from None
        self.publisher.publish(tweet)
        return tweet

    def _check_media(self, author_id: str, media_ids: list[str]) -> list[str]:
        """Attached media (chirp.media decides): each issued, the author's, processed and not attached yet."""
        media_ids = list(dict.fromkeys(media_ids))
        if len(media_ids) > MAX_MEDIA:
            raise InvalidInput(f"at most {MAX_MEDIA} images per tweet")
        if not media_ids:
            return []
        if self.media is None:
            raise Unprocessable(f"media {media_ids[0]} does not exist")
        return self.media.prepare(author_id, media_ids)

    def _referenced(self, field: str, tweet_id: int | None) -> Tweet | None:
        """The tweet a reply or quote refers to: a retweet stands for the tweet it shows."""
        if tweet_id is None:
            return None
        target = self.store.get(tweet_id)
        if target is not None and target.retweet_of_id is not None:
            target = self.store.get(target.retweet_of_id)
        if target is None or target.deleted:
            raise Unprocessable(f"{field} {tweet_id} does not exist")
        return target

    def publish(self, tweet: Tweet) -> None:
        self.publisher.publish(tweet)
        self.store.mark_published(tweet.tweet_id)

    def relay_outbox(self, grace_ms: int = OUTBOX_GRACE_MS) -> int:
        """Publishes every stored tweet whose publish is still unconfirmed after the grace period
        (younger ones are probably being published right now). Consumers are idempotent."""
        relayed = 0
        cutoff = self.clock_ms() - grace_ms
        for tweet_id in self.store.pending_ids():
            if snowflake_timestamp_ms(tweet_id) > cutoff:
                continue
            tweet = self.store.get(tweet_id)
            if tweet is not None:
                self.publish(tweet)
                relayed += 1
        return relayed

    def get(self, tweet_id: int) -> Tweet:
        tweet = self.store.get(tweet_id)
        if tweet is None or tweet.deleted:
            raise NotFound(f"tweet {tweet_id} not found")
        return tweet

    def delete(self, user_id: str, tweet_id: int) -> None:
        """Idempotent: the author deleting again (a retry after a failure half-way) completes what the first
        call did not. The deletion is durable, then announced on the stream (the search index and the fan-out
        consumer act on it, retried until done), then removed from Redis for the author's next read: a Redis
        outage fails only that last step."""
        tweet = self.store.get(tweet_id)
        if tweet is None or (tweet.deleted and tweet.author_id != user_id):
            raise NotFound(f"tweet {tweet_id} not found")
        if tweet.author_id != user_id:
            raise Forbidden("only the author can delete a tweet")
        if tweet.retweet_of_id is not None:
            undo = f"DELETE /tweets/{tweet.retweet_of_id}/retweet"
            raise InvalidInput(f"tweet {tweet_id} is a retweet: undo it with {undo}")
        if self.store.mark_deleted(tweet_id, user_id):
            self.social.add_tweets_count(user_id, -1)
        deleted = tweet.model_copy(update={"deleted": True})
        self.publisher.publish(deleted)
        self.timelines.on_delete(deleted)

    def user_timeline(
        self, user_id: str, *, cursor: str | None, limit: int, before_id: int | None = None
    ) -> tuple[list[Tweet], str | None]:
        """One author's live tweets, newest first: a page after `cursor` (this API's), or below `before_id`."""
        check_limit(limit)
        if self.social.get_profile(user_id) is None:
            raise NotFound(f"user {user_id} not found")
        if before_id is not None:
            return self.store.by_author(user_id, limit=limit, before_id=before_id)
        return self.store.by_author(user_id, limit=limit, cursor=cursor)
