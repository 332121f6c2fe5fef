"""The follow graph as real time reads it: counts, follower pages, and batch checks of candidates' edges."""

from __future__ import annotations

from collections.abc import Iterator

from chirp.adapters.dynamodb.social_store import SocialStore
from chirp.social.model import HIDING, Relation


class DynamoFollowGraph:
    def __init__(self, social: SocialStore):
        self.social = social

    def followers_count(self, user_id: str) -> int:
        profile = self.social.get_profile(user_id)
        return profile.followers_count if profile else 0

    def follower_pages(self, user_id: str, page_size: int) -> Iterator[list[str]]:
        return self.social.all_sources_pages(Relation.FOLLOWS, user_id, page_size)

    def followers_among(self, user_id: str, candidates: list[str]) -> set[str]:
        return self.social.sources_among((Relation.FOLLOWS,), candidates, user_id)

    def hiding_among(self, user_id: str, candidates: list[str]) -> set[str]:
        return self.social.sources_among(HIDING, candidates, user_id)
