"""Mastodon's API as the community's OpenAPI document describes it (docs/mastodon-openapi/schema.json, MIT,
Mastodon 4.7): validates an entity against one of its schemas, and a recorded answer against the operation
its method and path name. jsonschema (Draft 2020-12, with format checks: date-time, email...) on the document
itself, so every `$ref` resolves as the document means it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "mastodon-openapi" / "schema.json"
_URI = "urn:mastodon-openapi"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    responses: dict


@cache
def document() -> dict:
    return json.loads(DOCUMENT.read_text())


@cache
def _registry() -> Registry:
    return Registry().with_resource(_URI, Resource.from_contents(document(), default_specification=_specification()))


def _specification():
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _absolute(schema: dict) -> dict:
    """The schema with its local refs (#/components/...) made absolute into the document."""
    text = json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{_URI}#/')
    return json.loads(text)


def entity_errors(name: str, instance) -> list[str]:
    """What is wrong with `instance` as a `name` (components/schemas/<name>); [] when it is one."""
    return _errors(_absolute({"$ref": f"#/components/schemas/{name}"}), instance)


def _errors(schema: dict, instance) -> list[str]:
    validator = _validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in validator.iter_errors(instance)
    ]


@cache
def _operations() -> list[tuple[re.Pattern, Operation]]:
    """Every operation, literal templates before templated ones (so /accounts/lookup wins over /accounts/{id})."""
    found = []
    for template, item in document()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "/?$")
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                literal = template.count("{")
                found.append(
                    (literal, len(template), pattern, Operation(method.upper(), template, operation["responses"]))
                )
    found.sort(key=lambda entry: (entry[0], -entry[1]))
    return [(pattern, operation) for _, _, pattern, operation in found]


def operation(method: str, path: str) -> Operation | None:
    for pattern, candidate in _operations():
        if candidate.method == method.upper() and pattern.match(path):
            return candidate
    return None


def response_errors(method: str, path: str, status: int, body: bytes, content_type: str | None) -> list[str]:
    """What is wrong with an answer as the document describes the operation's answers; [] when nothing."""
    found = operation(method, path)
    if found is None:
        return [f"{method} {path}: no such operation in Mastodon's API"]
    response = found.responses.get(str(status)) or found.responses.get(f"{str(status)[0]}XX")
    if response is None:
        return [f"{method} {found.template}: status {status} is not one Mastodon answers ({sorted(found.responses)})"]
    schema = (response.get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:
        return []  # documented without a body (e.g. 206 Partial content)
    if not (content_type or "").startswith("application/json"):
        return [f"{method} {found.template} {status}: answered {content_type!r}, not JSON"]
    try:
        instance = json.loads(body)
    except ValueError:
        return [f"{method} {found.template} {status}: the body is not JSON"]
    return [f"{method} {found.template} {status}: {error}" for error in _errors(_absolute(schema), instance)]
