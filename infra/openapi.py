"""The OpenAPI document of Chirp's HTTP API, generated from the handlers' own routes and pydantic models
(Powertools' resolver), so it says what the Lambdas validate; the catalog says which routes need a token.

    make openapi    # writes docs/openapi.json
"""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

from infra.catalog import FUNCTIONS, ROOT

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


def _handler(function_name: str) -> ModuleType:
    if str(ROOT / "shared") not in sys.path:
        sys.path.append(str(ROOT / "shared"))
    spec = importlib.util.spec_from_file_location(
        f"chirp_openapi_{function_name}", ROOT / "functions" / function_name / "handler.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def openapi_document() -> dict:
    document: dict = {}
    for spec in FUNCTIONS:
        if not spec.routes:
            continue
        resolver = _handler(spec.name).app
        part = json.loads(
            resolver.get_openapi_json_schema(
                title="Chirp",
                version="1.0.0",
                description="A serverless, Twitter-like backend. Every route but the public ones needs "
                "`Authorization: Bearer <Cognito ID token>`; errors are JSON: {error, message}.",
                security_schemes={SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
                security=[{SECURITY_SCHEME: []}],
            )
        )
        public = {(route.method.lower(), route.path) for route in spec.routes if not route.authorized}
        for path, operations in part.pop("paths", {}).items():
            for method, operation in operations.items():
                responses = operation["responses"]
                responses.pop("422", None)
                responses["4XX"] = CLIENT_ERRORS
                responses.setdefault("503", UNAVAILABLE)
                if (method, path) in public:
                    operation["security"] = []  # no token needed
                else:
                    responses["401"] = UNAUTHORIZED
                document.setdefault("paths", {}).setdefault(path, {})[method] = operation
        schemas = part.get("components", {}).pop("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):  # the 422 that is not
            schemas.pop(unused, None)
        known = document.setdefault("components", {}).setdefault("schemas", {"Error": ERROR_SCHEMA})
        for name, schema in schemas.items():
            if known.setdefault(name, schema) != schema:
                raise ValueError(f"two handlers define the model {name!r} differently: rename one")
        part.pop("servers", None)  # the resolver's "/" would hide the stage; clients know their API URL
        for key, value in part.items():
            if key == "components":
                document["components"].update(value)  # securitySchemes: the same for every handler
            else:
                document.setdefault(key, value)
    return document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
