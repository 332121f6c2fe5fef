"""What the OAuth rules need: a store of apps and token grants (DynamoDB), and a password check (Cognito)."""

from __future__ import annotations

from typing import Protocol

from chirp.oauth.model import AccessGrant, ClientApp


class ClientStore(Protocol):
    def put_app(self, app: ClientApp) -> None: ...
    def get_app(self, client_id: str) -> ClientApp | None: ...
    def put_grant(self, token_hash: str, grant: AccessGrant) -> None: ...
    def get_grant(self, token_hash: str) -> AccessGrant | None: ...
    def delete_grant(self, token_hash: str) -> None: ...


class PasswordVerifier(Protocol):
    def user_id(self, username: str, password: str) -> str | None:
        """The user these credentials sign in, or None when they sign nobody in."""
        ...
