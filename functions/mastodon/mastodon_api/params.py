"""A request's parameters as Mastodon clients send them: the query string, a JSON body, a form
(`media_ids[]=1&media_ids[]=2`, booleans as 1/0) or multipart/form-data (uploads). One reader for all."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from chirp.errors import InvalidInput

MAX_PARTS = 20


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Params:
    values: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        found = self.values.get(name) or self.values.get(f"{name}[]")
        return found[0] if found else None

    def list(self, name: str) -> list[str]:
        return [*self.values.get(name, []), *self.values.get(f"{name}[]", [])]

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        if value is None or value == "":
            return default
        return value.lower() in ("1", "true", "t", "yes", "on")

    def plain(self) -> dict[str, str]:
        """The query's single values (for Link headers)."""
        return {name: values[0] for name, values in self.values.items() if values and not name.endswith("[]")}

    def add(self, name: str, value) -> None:
        if isinstance(value, list):
            for item in value:
                self.add(name, item)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.add(f"{name}[{key}]", item)
        elif value is not None:
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            self.values.setdefault(name, []).append(text)


def query_params(event: dict) -> Params:
    params = Params()
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        params.values[name] = list(values)
    if not params.values:
        for name, value in (event.get("queryStringParameters") or {}).items():
            params.values[name] = [value]
    return params


def body_params(event: dict) -> Params:
    """The body's parameters (JSON, form or multipart), or none."""
    params = Params()
    raw = event.get("body")
    if not raw:
        return params
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    content_type = _header(event, "content-type") or "application/json"
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            body = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise InvalidInput("the body is not valid JSON") from error
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object")
        for name, value in body.items():
            params.add(name, value)
    elif media_type == "application/x-www-form-urlencoded":
        for name, value in parse_qsl(data.decode("utf-8", errors="replace"), keep_blank_values=True):
            params.values.setdefault(name, []).append(value)
    elif media_type == "multipart/form-data":
        _multipart(data, content_type, params)
    else:
        raise InvalidInput(f"unsupported body type {media_type!r}: send JSON, a form or multipart/form-data")
    return params


def _header(event: dict, name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def _multipart(data: bytes, content_type: str, params: Params) -> None:
    boundary = next(
        (
            p.split("=", 1)[1].strip().strip('"')
            for p in content_type.split(";")[1:]
            if p.strip().startswith("boundary=")
        ),
        None,
    )
    if not boundary:
        raise InvalidInput("multipart/form-data without a boundary")
    delimiter = b"--" + boundary.encode()
    parts = data.split(delimiter)[1:]
    if len(parts) > MAX_PARTS + 1:
        raise InvalidInput(f"at most {MAX_PARTS} form fields")
    for part in parts:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise InvalidInput("a multipart field without headers")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _disposition(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if not name:
            continue
        if "filename" in disposition:
            kind = headers.get("content-type", "application/octet-stream")
            params.files[name] = Upload(disposition["filename"], kind, content)
        else:
            params.values.setdefault(name, []).append(content.decode("utf-8", errors="replace"))


def _disposition(value: str) -> dict[str, str]:
    fields = {}
    for piece in value.split(";")[1:]:
        key, _, item = piece.strip().partition("=")
        fields[key.strip().lower()] = item.strip().strip('"')
    return fields


def request_params(event: dict) -> Params:
    """The query's parameters with the body's after them (Mastodon reads both)."""
    params = query_params(event)
    body = body_params(event)
    for name, values in body.values.items():
        params.values.setdefault(name, []).extend(values)
    params.files.update(body.files)
    return params
