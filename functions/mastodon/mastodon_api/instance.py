"""The instance, app registration and OAuth: /api/v1/instance, /api/v2/instance, /api/v1/custom_emojis,
/api/v1/apps, /oauth/*.
Public but /api/v1/apps/verify_credentials: a client asks them before it has a token.

Declared on the resolver itself, not a Router: a Router drops an empty `security`, the declaration that makes a
route public (infra/routes.py).
"""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from chirp.composition import services
from chirp.errors import NotFound
from chirp.mastodon import entities
from chirp.oauth.service import OAuthError
from mastodon_api.context import authorizer, base_url, domain, params

PUBLIC = []  # the OpenAPI security of a route that needs no token


def register(router: APIGatewayRestResolver) -> None:
    """Declares these routes on the resolver."""

    @router.get("/api/v1/instance", security=PUBLIC)
    def instance_v1() -> dict:
        return entities.instance_v1(base_url(router), domain(router), services().settings.mastodon_streaming_url)

    @router.get("/api/v2/instance", security=PUBLIC)
    def instance_v2() -> dict:
        return entities.instance_v2(base_url(router), domain(router), services().settings.mastodon_streaming_url)

    @router.get("/api/v1/custom_emojis", security=PUBLIC)
    def custom_emojis() -> list:
        return []  # Chirp has none: its statuses are plain text, emoji as Unicode

    @router.post("/api/v1/apps", security=PUBLIC)
    def create_app() -> dict:
        request = params(router)
        redirect_uris = request.list("redirect_uris")
        if len(redirect_uris) == 1:  # one string, URIs separated by whitespace (Mastodon.py joins them with newlines)
            redirect_uris = redirect_uris[0].split()
        app, secret = services().oauth.register_app(
            request.get("client_name") or "", redirect_uris, request.get("scopes"), request.get("website")
        )
        return entities.application(app, secret=secret)

    @router.get("/api/v1/apps/verify_credentials")
    def verify_app() -> dict:
        app = services().client_store.get_app(authorizer(router).get("client_id", ""))
        if app is None:
            raise NotFound("this token's app no longer exists")
        return entities.application(app)

    @router.post("/oauth/token", security=PUBLIC)
    def token() -> dict:
        request = params(router)
        grant_type = request.get("grant_type")
        if grant_type != "password":
            raise OAuthError(
                "unsupported_grant_type",
                "Chirp issues tokens for the password grant only (sign in with your Chirp username and password)",
            )
        issued = services().oauth.password_grant(
            request.get("client_id") or "",
            request.get("client_secret") or "",
            request.get("username") or "",
            request.get("password") or "",
            request.get("scope"),
        )
        return entities.token(issued)

    @router.post("/oauth/revoke", security=PUBLIC)
    def revoke() -> dict:
        request = params(router)
        services().oauth.revoke(
            request.get("client_id") or "", request.get("client_secret") or "", request.get("token") or ""
        )
        return {}
