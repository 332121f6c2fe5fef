"""The public root a client reached, read from its request's headers: the Mastodon API builds its entities' links
on it, over HTTP and over the streaming API alike."""

from __future__ import annotations

from collections.abc import Mapping


def public_base_url(headers: Mapping[str, str]) -> str:
    """The forwarded host (the local host-root proxy says which it serves) or the Host (the custom domain on AWS),
    over the forwarded protocol (https on AWS); header names in any case, the first of comma-joined values."""
    lowered = {name.lower(): value for name, value in headers.items()}
    host = lowered.get("x-forwarded-host") or lowered.get("host") or "localhost"
    proto = lowered.get("x-forwarded-proto") or "https"
    return f"{proto.split(',')[0].strip()}://{host.split(',')[0].strip()}"
