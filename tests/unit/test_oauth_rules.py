"""OAuth for third-party clients: apps, the password grant, tokens stored only as hashes, revocation."""

from __future__ import annotations

import pytest

from chirp.oauth.model import AccessGrant, ClientApp
from chirp.oauth.service import OAuth, OAuthError, allows, parse_scopes, token_hash


class FakeClientStore:
    def __init__(self):
        self.apps: dict[str, ClientApp] = {}
        self.grants: dict[str, AccessGrant] = {}

    def put_app(self, app):
        self.apps[app.client_id] = app

    def get_app(self, client_id):
        return self.apps.get(client_id)

    def put_grant(self, digest, grant):
        self.grants[digest] = grant

    def get_grant(self, digest):
        return self.grants.get(digest)

    def delete_grant(self, digest):
        self.grants.pop(digest, None)


class FakePasswords:
    def user_id(self, username, password):
        return "u-alice" if (username, password) == ("alice", "right") else None


@pytest.fixture
def oauth():
    return OAuth(FakeClientStore(), FakePasswords(), clock_ms=lambda: 1_000)


def test_given_an_app_when_registered_then_only_its_secret_hash_is_kept(oauth):
    app, secret = oauth.register_app("toot", "urn:ietf:wg:oauth:2.0:oob", "read write follow", None)
    assert app.scopes == ["read", "write", "follow"]
    assert secret not in app.model_dump_json()
    assert app.secret_hash == token_hash(secret)


def test_given_the_right_password_when_granted_then_a_token_that_authenticates_and_is_stored_hashed(oauth):
    app, secret = oauth.register_app("toot", ["urn:ietf:wg:oauth:2.0:oob"], "read write", None)
    issued = oauth.password_grant(app.client_id, secret, "alice", "right", "read")
    assert issued.scopes == ["read"]
    assert issued.access_token not in oauth.store.grants  # only its hash is a key
    grant = oauth.authenticate(issued.access_token)
    assert (grant.user_id, grant.client_id, grant.scopes) == ("u-alice", app.client_id, ["read"])
    assert oauth.authenticate(issued.access_token + "x") is None


def test_given_no_scope_when_granted_then_the_apps_scopes(oauth):
    app, secret = oauth.register_app("Mastodon.py", "urn:ietf:wg:oauth:2.0:oob", "read write follow push", None)
    assert oauth.password_grant(app.client_id, secret, "alice", "right", None).scopes == app.scopes


@pytest.mark.parametrize(
    ("client", "username", "password", "scope", "code", "status"),
    [
        ("wrong-secret", "alice", "right", None, "invalid_client", 401),
        (None, "alice", "wrong", None, "invalid_grant", 400),
        (None, "", "", None, "invalid_request", 400),
        (None, "alice", "right", "admin:write", "invalid_scope", 400),
        (None, "alice", "right", "write", "invalid_scope", 400),  # beyond the app's "read"
    ],
)
def test_given_bad_credentials_when_granted_then_an_oauth_error(oauth, client, username, password, scope, code, status):
    app, secret = oauth.register_app("toot", "urn:ietf:wg:oauth:2.0:oob", "read", None)
    with pytest.raises(OAuthError) as raised:
        oauth.password_grant(app.client_id, client or secret, username, password, scope)
    assert (raised.value.code, raised.value.status) == (code, status)


def test_given_a_token_when_revoked_by_its_app_then_it_no_longer_authenticates(oauth):
    app, secret = oauth.register_app("toot", "urn:ietf:wg:oauth:2.0:oob", "read", None)
    other, other_secret = oauth.register_app("other", "urn:ietf:wg:oauth:2.0:oob", "read", None)
    token = oauth.password_grant(app.client_id, secret, "alice", "right", None).access_token
    oauth.revoke(other.client_id, other_secret, token)  # another app's revocation: no effect, no error
    assert oauth.authenticate(token) is not None
    oauth.revoke(app.client_id, secret, token)
    assert oauth.authenticate(token) is None
    oauth.revoke(app.client_id, secret, token)  # again: still no error


def test_given_scopes_when_checked_then_a_top_scope_covers_its_granular_ones():
    assert allows(["write"], "write:statuses")
    assert not allows(["read"], "write")
    assert parse_scopes("read+write:statuses") == ["read", "write:statuses"]
    with pytest.raises(OAuthError):
        parse_scopes("root")
