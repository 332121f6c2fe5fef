"""The public root a client reached (chirp.runtime.forwarded), which the Mastodon API and its streaming API build
their entities' links on."""

from __future__ import annotations

from chirp.runtime.forwarded import public_base_url


def test_given_the_local_proxy_forwarding_when_read_then_its_host_and_protocol_win_over_the_host():
    headers = {"Host": "127.0.0.1:4566", "X-Forwarded-Host": "127.0.0.1:4641", "X-Forwarded-Proto": "http"}

    assert public_base_url(headers) == "http://127.0.0.1:4641"


def test_given_only_a_host_when_read_then_it_is_served_over_https_as_on_aws():
    assert public_base_url({"host": "social.example.com"}) == "https://social.example.com"


def test_given_comma_joined_forwarded_values_when_read_then_the_first_hop_is_taken():
    headers = {"x-forwarded-host": "social.example.com, inner.local", "x-forwarded-proto": "https,http"}

    assert public_base_url(headers) == "https://social.example.com"


def test_given_no_host_at_all_when_read_then_it_is_localhost():
    assert public_base_url({}) == "https://localhost"
