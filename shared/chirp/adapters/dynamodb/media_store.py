"""Issued media ids in DynamoDB, one item each (MediaItem). Attaching is one transaction of conditional updates, so
a medium is attached to one tweet only, whoever races, and the claim can join the tweet's own write."""

from __future__ import annotations

from functools import cache

from pynamodb.connection import Connection

from chirp.adapters.dynamodb.conditional import updated
from chirp.adapters.dynamodb.tables import MediaItem
from chirp.media.model import MediaRecord, TranscodeResult


@cache
def _connection_for(region: str | None, host: str | None) -> Connection:
    return Connection(region=region, host=host)


class DynamoMediaStore:
    def create(self, record: MediaRecord, expires_at_s: int) -> None:
        MediaItem(**record.model_dump(exclude={"result"}), expires_at=expires_at_s).save(
            condition=MediaItem.media_id.does_not_exist()
        )

    def get_many(self, media_ids: list[str]) -> dict[str, MediaRecord]:
        return {item.media_id: _record(item) for item in MediaItem.batch_get(list(dict.fromkeys(media_ids)))}

    def start_try(self, media_id: str) -> int | None:
        item = self._update(media_id, [MediaItem.tries.add(1)], MediaItem.media_id.exists())
        return None if item is None else int(item.tries)

    def record_result(self, result: TranscodeResult) -> bool:
        actions = [MediaItem.result.set(result.model_dump_json()), MediaItem.tries.remove()]
        return self._update(result.media_id, actions, MediaItem.media_id.exists()) is not None

    def set_alt_text(self, media_id: str, owner: str, alt_text: str) -> bool:
        condition = (MediaItem.owner == owner) & MediaItem.tweet_id.does_not_exist()
        return self._update(media_id, [MediaItem.alt_text.set(alt_text)], condition) is not None

    def _update(self, media_id: str, actions: list, condition) -> MediaItem | None:
        """The item as updated (DynamoDB answers it), or None when the condition failed."""
        item = MediaItem(media_id)
        return item if updated(item, actions, condition) else None


def _record(item: MediaItem) -> MediaRecord:
    return MediaRecord(
        media_id=item.media_id,
        owner=item.owner,
        content_type=item.content_type,
        size_bytes=item.size_bytes,
        created_at_ms=item.created_at_ms,
        alt_text=item.alt_text,
        tweet_id=item.tweet_id,
        upload_id=item.upload_id,
        tries=item.tries or 0,
        result=TranscodeResult.model_validate_json(item.result) if item.result else None,
    )
