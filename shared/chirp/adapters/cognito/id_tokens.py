"""Checks the user pool's ID tokens where API Gateway cannot: a WebSocket API has no Cognito authorizer.

RS256 is checked with the standard library (RSASSA-PKCS1-v1_5: the whole expected encoding is rebuilt and
compared, never parsed), so the functions need no binary cryptography package. The pool's public keys are
fetched once per process, and again when a token names a key not seen yet (rotation), at most once a minute
(a flood of made-up key ids must not become a flood of fetches)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.request
from collections.abc import Callable

# DER of the DigestInfo header for SHA-256 (RFC 8017, section 9.2, note 1).
KEYS_REFETCH_S = 60
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _int(segment: str) -> int:
    return int.from_bytes(_b64(segment), "big")


def rs256_valid(signing_input: bytes, signature: bytes, modulus: int, exponent: int) -> bool:
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size or int.from_bytes(signature, "big") >= modulus:
        return False
    encoded = pow(int.from_bytes(signature, "big"), exponent, modulus).to_bytes(size, "big")
    digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(signing_input).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


def _fetch_keys(url: str) -> dict[str, dict]:
    with urllib.request.urlopen(url, timeout=2) as answer:  # the pool's own HTTPS URL (or the emulator's)
        return {key["kid"]: key for key in json.load(answer)["keys"]}


class IdTokens:
    def __init__(
        self,
        keys_url: str,
        issuer: str,
        client_id: str,
        fetch_keys: Callable[[str], dict[str, dict]] = _fetch_keys,
        clock_s: Callable[[], float] = time.time,
    ):
        self.keys_url, self.issuer, self.client_id = keys_url, issuer, client_id
        self.fetch_keys, self.clock_s = fetch_keys, clock_s
        self._keys: dict[str, dict] = {}
        self._fetched_at_s = float("-inf")

    def subject(self, token: str) -> str | None:
        """The `sub` of a valid, unexpired ID token of this pool and app client; None for anything else."""
        try:
            header_part, claims_part, signature_part = token.split(".")
            header, claims = json.loads(_b64(header_part)), json.loads(_b64(claims_part))
            key = self._key(header["kid"]) if header.get("alg") == "RS256" else None
            if key is None:
                return None
            signed = rs256_valid(
                f"{header_part}.{claims_part}".encode(), _b64(signature_part), _int(key["n"]), _int(key["e"])
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        valid = (
            signed
            and claims.get("iss") == self.issuer
            and claims.get("token_use") == "id"
            and claims.get("aud") == self.client_id
            and isinstance(claims.get("exp"), int | float)
            and claims["exp"] > self.clock_s()
            and isinstance(claims.get("sub"), str)
        )
        return claims["sub"] if valid else None

    def _key(self, kid: str) -> dict | None:
        if kid not in self._keys and self.clock_s() - self._fetched_at_s >= KEYS_REFETCH_S:
            self._keys, self._fetched_at_s = self.fetch_keys(self.keys_url), self.clock_s()
        return self._keys.get(kid)
