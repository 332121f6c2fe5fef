"""OAuth 2 for third-party (Mastodon) clients: apps register, users sign in with their password (the password
grant, checked by the user pool), and get a long-lived access token of Chirp's own.

Clients treat a token as opaque and never refresh it, while the user pool's tokens live an hour to a day: so
Chirp issues its own, 256 random bits, stored only as their SHA-256 (a leaked table holds no usable token;
no salt or slow hash is needed for a secret that is not guessable), checked by the API's authorizer, valid
until revoked. Client secrets are kept the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from chirp.errors import ChirpError, InvalidInput
from chirp.oauth.model import AccessGrant, ClientApp, IssuedToken
from chirp.oauth.ports import ClientStore, PasswordVerifier

# The scopes Mastodon defines at the top level; granular ones ("read:statuses") are under one of these.
TOP_SCOPES = ("read", "write", "follow", "push", "profile")
DEFAULT_SCOPES = ("read",)
MAX_NAME_CHARS = 200
MAX_URI_CHARS = 2000
MAX_REDIRECT_URIS = 10
TOKEN_BYTES = 32


class OAuthError(ChirpError):
    """An OAuth error as RFC 6749 names it (`invalid_grant`, ...), with its HTTP status."""

    def __init__(self, code: str, description: str, status: int = 400):
        super().__init__(description)
        self.code, self.description, self.status = code, description, status


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(raw: str | list[str] | None, default: tuple[str, ...] = DEFAULT_SCOPES) -> list[str]:
    """Scopes as a space- (or plus-) separated string or a list; each a known scope or a granular one under it."""
    if raw is None or raw == "" or raw == []:
        return list(default)
    words = raw if isinstance(raw, list) else raw.replace("+", " ").split()
    scopes = list(dict.fromkeys(word.strip() for word in words if word.strip()))
    for scope in scopes:
        if scope.split(":", 1)[0] not in TOP_SCOPES or len(scope) > 64:
            raise OAuthError("invalid_scope", f"unknown scope {scope[:64]!r}")
    return scopes


def allows(granted: list[str], needed: str) -> bool:
    """Whether the granted scopes cover `needed` ("write" covers "write:statuses")."""
    top = needed.split(":", 1)[0]
    return needed in granted or top in granted


class OAuth:
    def __init__(
        self,
        store: ClientStore,
        passwords: PasswordVerifier,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        new_secret: Callable[[], str] = lambda: secrets.token_urlsafe(TOKEN_BYTES),
    ):
        self.store, self.passwords, self.clock_ms, self.new_secret = store, passwords, clock_ms, new_secret

    def register_app(
        self, name: str, redirect_uris: str | list[str], scopes: str | list[str] | None, website: str | None
    ) -> tuple[ClientApp, str]:
        """A new app and its client secret (returned once, stored as a hash)."""
        name = (name or "").strip()
        if not 1 <= len(name) <= MAX_NAME_CHARS:
            raise InvalidInput(f"client_name must be 1 to {MAX_NAME_CHARS} characters")
        uris = redirect_uris.split() if isinstance(redirect_uris, str) else list(redirect_uris or [])
        if not 1 <= len(uris) <= MAX_REDIRECT_URIS or any(not u or len(u) > MAX_URI_CHARS for u in uris):
            raise InvalidInput(f"redirect_uris must name 1 to {MAX_REDIRECT_URIS} URIs")
        if website is not None and len(website) > MAX_URI_CHARS:
            raise InvalidInput("website is too long")
        secret = self.new_secret()
        app = ClientApp(
            client_id=self.new_secret(),
            secret_hash=token_hash(secret),
            name=name,
            website=website or None,
            redirect_uris=uris,
            scopes=parse_scopes(scopes),
            created_at_ms=self.clock_ms(),
        )
        self.store.put_app(app)
        return app, secret

    def password_grant(
        self, client_id: str, client_secret: str, username: str, password: str, scope: str | None
    ) -> IssuedToken:
        """Signs the user in with their password and issues an access token for this app."""
        app = self._client(client_id, client_secret)
        scopes = parse_scopes(scope, default=tuple(app.scopes))
        if not all(allows(app.scopes, s) for s in scopes):
            raise OAuthError("invalid_scope", "the requested scope is beyond the scopes the app registered")
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required")
        user_id = self.passwords.user_id(username, password)
        if user_id is None:
            raise OAuthError("invalid_grant", "the username or password is wrong", status=400)
        return self.issue(user_id, app.client_id, scopes)

    def issue(self, user_id: str, client_id: str, scopes: list[str]) -> IssuedToken:
        token = self.new_secret()
        now = self.clock_ms()
        self.store.put_grant(
            token_hash(token), AccessGrant(user_id=user_id, client_id=client_id, scopes=scopes, created_at_ms=now)
        )
        return IssuedToken(access_token=token, scopes=scopes, created_at_ms=now)

    def authenticate(self, token: str) -> AccessGrant | None:
        """What a bearer token grants, None when it is unknown or revoked."""
        if not token or len(token) > 512:
            return None
        return self.store.get_grant(token_hash(token))

    def revoke(self, client_id: str, client_secret: str, token: str) -> None:
        """Revokes a token of this app. Like Mastodon, an unknown token or one of another app is no error: the
        answer tells nothing about tokens the caller does not hold."""
        app = self._client(client_id, client_secret)
        digest = token_hash(token or "")
        grant = self.store.get_grant(digest)
        if grant is not None and grant.client_id == app.client_id:
            self.store.delete_grant(digest)

    def _client(self, client_id: str, client_secret: str) -> ClientApp:
        app = self.store.get_app(client_id) if client_id and len(client_id) <= 128 else None
        if app is None or not hmac.compare_digest(app.secret_hash, token_hash(client_secret or "")):
            raise OAuthError("invalid_client", "client authentication failed", status=401)
        return app
