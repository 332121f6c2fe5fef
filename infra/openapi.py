"""The OpenAPI document of Chirp's HTTP API, generated from the handlers' own routes and pydantic models
(Powertools' resolvers), so it says what the Lambdas validate and which routes need a token (infra/routes.py).

    make openapi    # writes docs/openapi.json
"""

from __future__ import annotations

import json
import sys

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

from infra.catalog import FUNCTIONS, ROOT, ResolverRoutes
from infra.routes import resolver_routes

DOCUMENT = ROOT / "docs" / "openapi.json"
SECURITY_SCHEME = "CognitoIdToken"
# What the handlers answer for bad input, unknown ids, forbidden acts and conflicts (the API's `_error`);
# request validation answers 400 with it too, where the resolver would document a 422.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
CLIENT_ERRORS = {
    "description": "Bad input, unknown id, forbidden act or conflict; the body names the problem",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
UNAUTHORIZED = {"description": "Missing or invalid token (answered by the API gateway)"}


def _header(description: str, schema_type: str = "string") -> dict:
    return {"description": description, "schema": {"type": schema_type}}


# Every answer carries the caller's limit state and the degradation level (chirp.runtime.http_guard).
HEADERS = {
    "X-RateLimit-Limit": _header("Requests allowed per window for this route's class", "integer"),
    "X-RateLimit-Remaining": _header("Requests that would be accepted right now", "integer"),
    "X-RateLimit-Reset": _header("When the whole limit is available again (ISO 8601, UTC)"),
    "RateLimit-Policy": _header('IETF draft field: "<class>";q=<quota>;w=<window seconds>'),
    "RateLimit": _header('IETF draft field: "<class>";r=<remaining>;t=<seconds until the quota is whole>'),
    "Chirp-Degradation-Level": _header("The degradation level in force, 0 (normal) to 4 (read-only)", "integer"),
}
RETRY_AFTER = {"Retry-After": _header("Seconds to wait before retrying", "integer")}


def _refs(*names: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


UNAVAILABLE = {
    "description": "A dependency is busy or down, the load is being shed, or the degradation level switched this "
    "off (search from level 3, every write at level 4): retry after Retry-After",
    "headers": _refs("Retry-After", "Chirp-Degradation-Level"),
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
TOO_MANY_REQUESTS = {
    "description": "The caller's rate limit for this route's class is spent: retry after Retry-After",
    "headers": _refs("Retry-After", *HEADERS),
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def openapi_document() -> dict:
    """Powertools merges the handlers' own documents; here they learn what Powertools leaves out and what the
    gateway and the error handlers add: the empty security of public routes, the 401 of the authorizer, and
    400/4XX/503 as `{error, message}` where the resolver would document a 422."""
    if str(ROOT / "shared") not in sys.path:  # the handlers import the domain package
        sys.path.append(str(ROOT / "shared"))
    merge = OpenAPIMerge(
        title="Chirp",
        version="1.0.0",
        description="A serverless, Twitter-like backend. Every route but the public ones needs "
        "`Authorization: Bearer <Cognito ID token>`; errors are JSON: {error, message}.",
        security_schemes={SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        security=[{SECURITY_SCHEME: []}],
        on_conflict="error",
    )
    # Chirp's own API (the Mastodon API is described by Mastodon's own document: docs/mastodon-openapi/).
    served = [spec for spec in FUNCTIONS if any(t.api == "chirp" for t in spec.triggered_by(ResolverRoutes))]
    for spec in served:
        merge.add_file(spec.handler_file)
    document = json.loads(merge.get_openapi_json_schema())  # JSON: response codes as strings
    document.pop("servers")  # a default "/" would hide the stage; clients know their API URL
    # Powertools drops an empty `security` from the operations it documents: put it back on public routes.
    public = {(route.method.lower(), route.path) for spec in served for route in resolver_routes(spec) if route.public}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses.pop("422", None)
            responses["4XX"] = CLIENT_ERRORS
            responses.setdefault("503", UNAVAILABLE)
            responses["429"] = TOO_MANY_REQUESTS
            for status, response in responses.items():
                if status.startswith("2"):
                    response["headers"] = _refs(*HEADERS)
            if (method, path) in public:
                operation["security"] = []  # no token needed
            else:
                responses["401"] = UNAUTHORIZED
    schemas = document["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):  # the 422 that is not
        schemas.pop(unused, None)
    schemas["Error"] = ERROR_SCHEMA
    document["components"]["headers"] = HEADERS | RETRY_AFTER
    return document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
