"""What an answer needs besides the models themselves, gathered in as few calls as possible per page: authors,
mentioned accounts, parents' authors, reply counts (from the search index) and media; then mapped by
entities.py."""

from __future__ import annotations

from chirp.composition import services
from chirp.errors import NotFound, Unavailable
from chirp.media.model import VARIANTS
from chirp.observability import logger
from chirp.social.model import Profile
from chirp.timelines.model import TimelineEntry
from chirp.tweets.model import Tweet
from mastodon_api import entities


class Views:
    def __init__(self, base: str):
        self.base = base
        self.services = services()

    # --- accounts ------------------------------------------------------------------------------
    def account(self, user_id: str, *, credential: bool = False) -> dict:
        return entities.account(self.services.social.profile(user_id), self.base, credential=credential)

    def accounts(self, user_ids: list[str]) -> list[dict]:
        profiles = self.services.social.profiles(user_ids)
        return [entities.account(profiles[u], self.base) for u in user_ids if u in profiles]

    # --- statuses ------------------------------------------------------------------------------
    def status(self, tweet_id: int) -> dict:
        tweet = self.services.tweets.get(tweet_id)
        rendered = self.statuses([tweet])
        if not rendered:
            raise NotFound(f"status {tweet_id} not found")
        return rendered[0]

    def entries(self, entries: list[TimelineEntry]) -> list[dict]:
        authors = {e.author.user_id: e.author for e in entries if e.author is not None}
        return self.statuses([e.tweet for e in entries], authors)

    def statuses(
        self, tweets: list[Tweet], authors: dict[str, Profile] | None = None, *, with_source=False
    ) -> list[dict]:
        """Statuses of these tweets in their order; a tweet whose author has no profile is left out."""
        if not tweets:
            return []
        authors = dict(authors or {})
        missing = [t.author_id for t in tweets if t.author_id not in authors]
        authors.update(self.services.social.profiles(missing))
        mentioned = self.services.social.by_handles([h for t in tweets for h in t.mentions])
        parents = self._parent_authors([t.reply_to_id for t in tweets if t.reply_to_id is not None])
        replies = self._reply_counts([t.tweet_id for t in tweets])
        media = self.media([m for t in tweets for m in t.media_ids])
        return [
            entities.status(
                tweet,
                authors[tweet.author_id],
                self.base,
                mentioned=[mentioned[h] for h in tweet.mentions if h in mentioned],
                media=[media[m] for m in tweet.media_ids if m in media],
                replies_count=replies.get(tweet.tweet_id, 0),
                in_reply_to_account_id=parents.get(tweet.reply_to_id) if tweet.reply_to_id else None,
                with_source=with_source,
            )
            for tweet in tweets
            if tweet.author_id in authors
        ]

    def _parent_authors(self, parent_ids: list[int]) -> dict[int, str]:
        if not parent_ids:
            return {}
        return {e.tweet.tweet_id: e.tweet.author_id for e in self.services.timelines.hydrate(sorted(set(parent_ids)))}

    def _reply_counts(self, tweet_ids: list[int]) -> dict[int, int]:
        """From the search index (a second behind); while search is down the counts read 0 rather than failing
        the whole page."""
        try:
            return self.services.search.reply_counts(tweet_ids)
        except Unavailable as error:
            logger.warning("reply counts unavailable", extra={"error": str(error)})
            return {}

    # --- media ---------------------------------------------------------------------------------
    def media(self, media_ids: list[str]) -> dict[str, dict]:
        if not media_ids:
            return {}
        media = self.services.media
        descriptions = self.services.client_store.media_descriptions(media_ids)
        attachments = {}
        for media_id in dict.fromkeys(media_ids):
            result = media.status(media_id)
            urls = {name: media.presign_download(media_id, name) for name in VARIANTS} if result else {}
            attachments[media_id] = entities.media_attachment(media_id, result, urls, descriptions.get(media_id))
        return attachments
