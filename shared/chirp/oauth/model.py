"""A registered client app and what an access token grants."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClientApp(BaseModel):
    """An app registered by a client (POST /api/v1/apps). Its secret is kept as a hash only."""

    client_id: str
    secret_hash: str
    name: str
    website: str | None = None
    redirect_uris: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    created_at_ms: int


class AccessGrant(BaseModel):
    """What an access token stands for: a user, through an app, with scopes. Kept under the token's hash."""

    user_id: str
    client_id: str
    scopes: list[str]
    created_at_ms: int


class IssuedToken(BaseModel):
    """The one time a token is seen in clear: the answer to the grant that issued it."""

    access_token: str
    scopes: list[str]
    created_at_ms: int
