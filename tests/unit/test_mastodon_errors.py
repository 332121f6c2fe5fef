"""The Mastodon API's error answers (mastodon_api.errors): a 422 is Mastodon's ValidationError, with per-parameter
details where the parameter at fault is known, as Mastodon's OpenAPI document describes it."""

from __future__ import annotations

import json
import sys

from chirp.errors import InvalidInput, Unprocessable
from tests.conftest import ROOT
from tests.mastodon_openapi import entity_errors

sys.path.append(str(ROOT / "functions" / "mastodon"))
from mastodon_api import paging
from mastodon_api.errors import error_response, validation_error


def body(response) -> dict:
    return json.loads(response.body) if isinstance(response.body, str) else response.body


def test_given_a_bad_parameter_when_refused_then_a_422_validation_error_naming_it():
    try:
        paging.id_param("latest", "home[last_read_id]")
    except InvalidInput as error:
        response = validation_error(error)

    assert response.status_code == 422
    assert entity_errors("ValidationError", body(response)) == []
    assert body(response) == {
        "error": "home[last_read_id] must be a status or notification id",
        "details": {
            "home[last_read_id]": [
                {"error": "ERR_INVALID", "description": "home[last_read_id] must be a status or notification id"}
            ]
        },
    }


def test_given_input_refused_without_a_parameter_when_answered_then_a_validation_error_with_no_details():
    for error in (InvalidInput("the body is not valid JSON"), Unprocessable("that media is someone else's")):
        response = validation_error(error)
        assert (response.status_code, body(response)) == (422, {"error": str(error), "details": {}})
        assert entity_errors("ValidationError", body(response)) == []


def test_given_an_outage_when_answered_then_a_503_with_retry_after_and_an_error_only():
    response = error_response(503, "A service Chirp depends on is unavailable; retry shortly")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert body(response) == {"error": "A service Chirp depends on is unavailable; retry shortly"}
