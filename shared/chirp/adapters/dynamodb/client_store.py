"""Apps and access-token grants of third-party clients in DynamoDB, one item each, keyed by kind and id."""

from __future__ import annotations

from pydantic import BaseModel
from pynamodb.exceptions import DoesNotExist

from chirp.adapters.dynamodb.tables import ClientItem
from chirp.oauth.model import AccessGrant, ClientApp


def _get[M: BaseModel](key: str, model: type[M]) -> M | None:
    try:
        return model.model_validate_json(ClientItem.get(key).body)
    except DoesNotExist:
        return None


class DynamoClientStore:
    def put_app(self, app: ClientApp) -> None:
        ClientItem(pk=f"APP#{app.client_id}", body=app.model_dump_json()).save()

    def get_app(self, client_id: str) -> ClientApp | None:
        return _get(f"APP#{client_id}", ClientApp)

    def put_grant(self, token_hash: str, grant: AccessGrant) -> None:
        ClientItem(pk=f"TOKEN#{token_hash}", body=grant.model_dump_json()).save()

    def get_grant(self, token_hash: str) -> AccessGrant | None:
        return _get(f"TOKEN#{token_hash}", AccessGrant)

    def delete_grant(self, token_hash: str) -> None:
        ClientItem(pk=f"TOKEN#{token_hash}").delete()

    def put_media_description(self, media_id: str, owner: str, description: str) -> None:
        ClientItem(
            pk=f"MEDIA#{media_id}", body=MediaNote(owner=owner, description=description).model_dump_json()
        ).save()

    def media_descriptions(self, media_ids: list[str]) -> dict[str, str]:
        keys = list(dict.fromkeys(f"MEDIA#{m}" for m in media_ids))
        if not keys:
            return {}
        return {
            item.pk.removeprefix("MEDIA#"): MediaNote.model_validate_json(item.body).description
            for item in ClientItem.batch_get(keys)
        }


class MediaNote(BaseModel):
    owner: str
    description: str
