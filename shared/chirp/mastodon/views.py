"""What an answer needs besides the models themselves, gathered in as few calls as possible per page: the
viewer's flags and every tweet's counts (one batch each, chirp.engagement), authors, mentioned accounts,
parents' authors, media, and for a reblog the tweet it shows; then mapped by entities.py. The Mastodon REST
API renders its answers with them, and the streaming API its pushes (chirp.mastodon.streaming)."""

from __future__ import annotations

from chirp.composition import services
from chirp.engagement.model import PostView
from chirp.errors import NotFound
from chirp.mastodon import entities
from chirp.notifications.model import Notification
from chirp.social.model import Profile
from chirp.timelines.model import TimelineEntry
from chirp.tweets.model import Tweet


class Views:
    def __init__(self, base: str, viewer_id: str | None):
        self.base, self.viewer_id = base, viewer_id
        self.services = services()

    # --- accounts ------------------------------------------------------------------------------
    def account(self, user_id: str, *, credential: bool = False) -> dict:
        return entities.account(self.services.social.profile(user_id), self.base, credential=credential)

    def accounts(self, user_ids: list[str]) -> list[dict]:
        profiles = self.services.social.profiles(user_ids)
        return [entities.account(profiles[u], self.base) for u in user_ids if u in profiles]

    # --- statuses ------------------------------------------------------------------------------
    def status(self, tweet_id: int) -> dict:
        """A status read alone: a reblog shows the tweet it reblogged; gone with it."""
        return self.posted(self.services.tweets.get(tweet_id))

    def posted(self, tweet: Tweet, *, with_source: bool = False, just_written: bool = False) -> dict:
        """`just_written`: as Engagements.decorate's."""
        rendered = self.posts([tweet], with_source=with_source, just_written=just_written)
        if not rendered:
            raise NotFound(f"status {tweet.tweet_id} not found")
        return rendered[0]

    def posts(self, tweets: list[Tweet], *, with_source: bool = False, just_written: bool = False) -> list[dict]:
        """Tweets as an account's statuses: a retweet is a reblog of its original (left out when that is gone)."""
        views: list[PostView] = self.services.engagement.posts(tweets, self.viewer_id, just_written=just_written)
        shown = [v.retweeted_tweet or v for v in views]
        rendered = self._render(shown, with_source=with_source)
        rebloggers = self.services.social.profiles([v.author_id for v in views if v.retweeted_tweet])
        out = []
        for view, original in zip(views, shown, strict=True):
            status = rendered.get(original.tweet_id)
            if status is None:
                continue
            if view.retweeted_tweet is None:
                out.append(status)
            elif view.author_id in rebloggers:
                out.append(
                    entities.reblog(view.tweet_id, view.created_at_ms, rebloggers[view.author_id], status, self.base)
                )
        return out

    def entries(self, entries: list[TimelineEntry]) -> list[dict]:
        """Timeline and search entries: a tweet with its author, or a retweet (the original, who retweeted it)."""
        authors = {e.author.user_id: e.author for e in entries if e.author is not None}
        decorated = self.services.engagement.decorate([e.tweet for e in entries], self.viewer_id)
        rendered = self._render([decorated[e.tweet.tweet_id] for e in entries], authors)
        out = []
        for entry in entries:
            status = rendered.get(entry.tweet.tweet_id)
            if status is None:
                continue
            if entry.retweeted_by is None or entry.entry_id == entry.tweet.tweet_id:
                out.append(status)
            else:
                retweet_ms = _snowflake_ms(entry.entry_id)
                out.append(entities.reblog(entry.entry_id, retweet_ms, entry.retweeted_by, status, self.base))
        return out

    def _render(self, tweets: list[Tweet], authors: dict[str, Profile] | None = None, *, with_source=False) -> dict:
        """Statuses of these (decorated) tweets by id; a tweet whose author has no profile is left out."""
        if not tweets:
            return {}
        authors = dict(authors or {})
        authors.update(self.services.social.profiles([t.author_id for t in tweets if t.author_id not in authors]))
        mentioned = self.services.social.by_handles([h for t in tweets for h in t.mentions])
        parents = self.parent_authors(tweets)
        media = self.media([m for t in tweets for m in t.media_ids])
        return {
            tweet.tweet_id: entities.status(
                tweet,
                authors[tweet.author_id],
                self.base,
                mentioned=[mentioned[h] for h in tweet.mentions if h in mentioned],
                media=[media[m] for m in tweet.media_ids if m in media],
                in_reply_to_account_id=parents.get(tweet.reply_to_id) if tweet.reply_to_id else None,
                with_source=with_source,
            )
            for tweet in tweets
            if tweet.author_id in authors
        }

    def parent_authors(self, tweets: list[Tweet]) -> dict[int, str]:
        """The author of each reply's parent, by the parent's id: as the reply kept it, else (a reply posted before
        replies kept it) read from the live parent, in one batch (cached tweets first)."""
        replies = [t for t in tweets if t.reply_to_id is not None]
        authors = {t.reply_to_id: t.reply_to_author_id for t in replies if t.reply_to_author_id is not None}
        unknown = sorted({t.reply_to_id for t in replies} - authors.keys())
        if unknown:
            authors.update({e.tweet.tweet_id: e.tweet.author_id for e in self.services.timelines.hydrate(unknown)})
        return authors

    # --- notifications -------------------------------------------------------------------------
    def notifications(self, found: list[Notification]) -> list[dict]:
        """Notifications with their actors and statuses (one batch each); one whose actor or status is gone is
        left out."""
        actors = self.services.social.profiles([n.actor_id for n in found])
        tweet_ids = sorted({n.tweet_id for n in found if n.tweet_id is not None})
        statuses = {int(s["id"]): s for s in self.entries(self.services.timelines.hydrate(tweet_ids))}
        return [
            entities.notification(n, actors[n.actor_id], self.base, statuses.get(n.tweet_id) if n.tweet_id else None)
            for n in found
            if n.actor_id in actors and (n.tweet_id is None or n.tweet_id in statuses)
        ]

    # --- media ---------------------------------------------------------------------------------
    def media(self, media_ids: list[str]) -> dict[str, dict]:
        if not media_ids:
            return {}
        media = self.services.media
        descriptions = self.services.client_store.media_descriptions(media_ids)
        records = media.records(media_ids)  # one batch read for the page
        attachments = {}
        for media_id in dict.fromkeys(media_ids):
            record = records.get(media_id)
            result, urls = (record.result, media.variant_urls(record)) if record else (None, {})
            attachments[media_id] = entities.media_attachment(media_id, result, urls, descriptions.get(media_id))
        return attachments


def _snowflake_ms(snowflake: int) -> int:
    from chirp.ids.snowflake import snowflake_timestamp_ms

    return snowflake_timestamp_ms(snowflake)
