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
UNAVAILABLE = {
    "description": "A dependency is busy or down: retry shortly",
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
        merge.add_file(spec.code_dir / "handler.py")
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
            if (method, path) in public:
                operation["security"] = []  # no token needed
            else:
                responses["401"] = UNAUTHORIZED
    schemas = document["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):  # the 422 that is not
        schemas.pop(unused, None)
    schemas["Error"] = ERROR_SCHEMA
    return document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
