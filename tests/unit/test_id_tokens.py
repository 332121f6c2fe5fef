"""The WebSocket $connect's check of the user pool's ID tokens (RS256 with the standard library), against
tokens signed here with a throwaway test key."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from chirp.adapters.cognito.id_tokens import IdTokens, rs256_valid

# A 1024-bit RSA key made for these tests only (openssl genrsa 1024): the modulus and private exponent.
N = int(
    "cbd9458e7d4c253f2ecbfaae2ac15c0a577a8b81bbdd8ec821b05e99ecd096bbc33dcdb5de6f5269b1872a2e648d3b9bf2706544394e98a6"
    "c688e15081be0fa89a33324df85788ff981c8432484ff02a3de9a2157843d5231d98bace5a7a2c56394206a25bae52fc8e9b023a892510fc"
    "3c22fb57530d5ee84ffe9f84b48a7c63",
    16,
)
D = int(
    "28fa16075c9c8fe8318a036c3b5fff167d1b3f2be70dd483da71cfb2756e40bea1b2acc5605f545bb6ba0afaa46fd789b3a47056d4863e1d"
    "584f6fab754935703ce9c37b7a53416c6bfa5b3b28ef17f2909cb92ff7167822a11f1877005d7dc52a9480c5555d2ce2025e751af15d371f"
    "20fbc30e0b73f84cf20af12cf07bedc1",
    16,
)
E = 65537
ISSUER, CLIENT = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test", "client-1"
NOW = 1_800_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(message: bytes) -> bytes:
    size = (N.bit_length() + 7) // 8
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(message).digest()
    encoded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return pow(int.from_bytes(encoded, "big"), D, N).to_bytes(size, "big")


def _token(header: dict | None = None, **claims) -> str:
    header = header or {"alg": "RS256", "kid": "k1"}
    body = {"sub": "user-1", "iss": ISSUER, "aud": CLIENT, "token_use": "id", "exp": NOW + 60, **claims}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    return f"{signing_input}.{_b64(_sign(signing_input.encode()))}"


class Keys:
    def __init__(self):
        self.fetches = 0

    def __call__(self, url: str) -> dict[str, dict]:
        self.fetches += 1
        return {"k1": {"kid": "k1", "kty": "RSA", "n": _b64(N.to_bytes(128, "big")), "e": _b64(E.to_bytes(3, "big"))}}


@pytest.fixture
def clock():
    return {"now": NOW}


@pytest.fixture
def keys():
    return Keys()


@pytest.fixture
def tokens(keys, clock):
    return IdTokens("https://keys", ISSUER, CLIENT, fetch_keys=keys, clock_s=lambda: clock["now"])


def test_given_a_valid_id_token_then_its_subject(tokens):
    assert tokens.subject(_token()) == "user-1"


@pytest.mark.parametrize(
    "claims",
    [{"exp": NOW - 1}, {"aud": "another-client"}, {"iss": ISSUER + "x"}, {"token_use": "access"}, {"sub": 5}],
)
def test_given_an_expired_or_foreign_token_then_none(tokens, claims):
    assert tokens.subject(_token(**claims)) is None


def test_given_a_tampered_token_then_none(tokens):
    header, _, signature = _token().split(".")
    forged = _b64(
        json.dumps({"sub": "admin", "iss": ISSUER, "aud": CLIENT, "token_use": "id", "exp": NOW + 60}).encode()
    )
    assert tokens.subject(f"{header}.{forged}.{signature}") is None


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "..."])
def test_given_garbage_then_none(tokens, token):
    assert tokens.subject(token) is None


def test_given_alg_none_or_hs256_then_none_without_checking_anything(tokens, keys):
    for alg in ("none", "HS256"):
        assert tokens.subject(_token(header={"alg": alg, "kid": "k1"})) is None
    assert keys.fetches == 0


def test_given_unknown_key_ids_then_keys_are_fetched_again_at_most_once_a_minute(tokens, keys, clock):
    for _ in range(5):
        assert tokens.subject(_token(header={"alg": "RS256", "kid": "rotated"})) is None
    assert keys.fetches == 1
    clock["now"] += 61
    assert tokens.subject(_token(header={"alg": "RS256", "kid": "rotated"})) is None
    assert keys.fetches == 2


def test_given_a_signature_of_other_bytes_then_rs256_is_invalid():
    assert rs256_valid(b"message", _sign(b"message"), N, E)
    assert not rs256_valid(b"messagE", _sign(b"message"), N, E)
    assert not rs256_valid(b"message", _sign(b"message")[1:], N, E)
