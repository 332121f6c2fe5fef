"""The deploy-time search schema (Custom::SearchSchema) against the local cloud's real OpenSearch.

The handler is called directly with CloudFormation's request shape; its answer is caught by a loopback
HTTP server standing in for the pre-signed ResponseURL. Each test works on its own index (deleted after).
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chirp.adapters.opensearch.client import opensearch_client
from chirp.adapters.opensearch.tweet_index import TweetIndex
from chirp.search.schema import MAPPINGS, schema_digest
from chirp.settings import Settings
from tests.conftest import FakeLambdaContext, load_handler, read_cloud_env

CONTEXT = FakeLambdaContext(function_name="search_schema")


@pytest.fixture(scope="module")
def client():
    return opensearch_client(Settings.from_env(read_cloud_env()))


@pytest.fixture
def index(client, monkeypatch):
    handler = load_handler("search_schema")
    tweets = TweetIndex(client, f"tweets-test-{uuid.uuid4().hex[:12]}")
    monkeypatch.setattr(handler, "tweet_index", lambda: tweets)
    yield handler, tweets
    client.indices.delete(index=tweets.index, ignore_unavailable=True)


@pytest.fixture
def cloudformation():
    """Collects what the handler PUTs to the ResponseURL, as CloudFormation would."""
    answers: list[dict] = []

    class ResponseUrl(BaseHTTPRequestHandler):
        def do_PUT(self):
            answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseUrl)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/response", answers
    server.shutdown()
    server.server_close()


def _request(request_type: str, response_url: str, digest: str | None = None) -> dict:
    event = {
        "RequestType": request_type,
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/Chirp-local/1",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "SearchSchema",
        "ResourceType": "Custom::SearchSchema",
        "ResourceProperties": {"InputsDigest": digest or schema_digest()},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "tweets"
    return event


def _properties(client, index: str) -> dict:
    return client.indices.get_mapping(index=index)[index]["mappings"]["properties"]


def test_given_no_index_when_the_stack_is_created_then_the_index_exists_with_its_mapping_and_active_shards(
    client, index, cloudformation
):
    handler, tweets = index
    url, answers = cloudformation

    handler.lambda_handler(_request("Create", url), CONTEXT)

    (answer,) = answers
    assert answer["Status"] == "SUCCESS", answer
    assert answer["Data"] == {"Index": tweets.index, "Created": "true"}
    assert _properties(client, tweets.index) == MAPPINGS["properties"]
    assert client.cluster.health(index=tweets.index)["active_primary_shards"] == 1


def test_given_an_index_missing_a_new_field_when_the_stack_is_updated_then_the_field_is_added(
    client, index, cloudformation
):
    handler, tweets = index
    url, answers = cloudformation
    older = {**MAPPINGS, "properties": {k: v for k, v in MAPPINGS["properties"].items() if k != "quote_tweet_id"}}
    client.indices.create(index=tweets.index, body={"mappings": older})

    handler.lambda_handler(_request("Update", url), CONTEXT)

    assert [answer["Status"] for answer in answers] == ["SUCCESS"]
    assert answers[0]["PhysicalResourceId"] == "tweets"  # unchanged: CloudFormation deletes nothing
    assert _properties(client, tweets.index) == MAPPINGS["properties"]


def test_given_an_incompatible_mapping_when_the_stack_is_updated_then_the_deploy_is_told_why_it_failed(
    client, index, cloudformation
):
    handler, tweets = index
    url, answers = cloudformation
    conflicting = {"properties": {**MAPPINGS["properties"], "author_id": {"type": "long"}}}
    client.indices.create(index=tweets.index, body={"mappings": conflicting})

    handler.lambda_handler(_request("Update", url), CONTEXT)

    (answer,) = answers
    assert answer["Status"] == "FAILED"
    assert "author_id" in answer["Reason"]
    assert _properties(client, tweets.index)["author_id"] == {"type": "long"}  # left as it was


def test_given_a_failed_update_when_cloudformation_rolls_back_then_the_rollback_succeeds_and_changes_nothing(
    client, index, cloudformation
):
    """CloudFormation rolls this resource back to the previous properties while the new code is still
    deployed: a request for another schema must not apply this code's schema again (which just failed)."""
    handler, tweets = index
    url, answers = cloudformation
    conflicting = {"properties": {**MAPPINGS["properties"], "author_id": {"type": "long"}}}
    client.indices.create(index=tweets.index, body={"mappings": conflicting})
    handler.lambda_handler(_request("Update", url), CONTEXT)

    handler.lambda_handler(_request("Update", url, digest="f" * 64), CONTEXT)  # the previous deploy's digest

    assert [answer["Status"] for answer in answers] == ["FAILED", "SUCCESS"]
    assert _properties(client, tweets.index) == conflicting["properties"]


def test_given_an_index_when_the_stack_is_deleted_then_the_index_and_its_documents_stay(client, index, cloudformation):
    handler, tweets = index
    url, answers = cloudformation
    tweets.apply_schema()

    handler.lambda_handler(_request("Delete", url), CONTEXT)

    assert [answer["Status"] for answer in answers] == ["SUCCESS"]
    assert client.indices.exists(index=tweets.index)


def test_given_an_index_with_the_default_refresh_when_the_schema_is_applied_then_it_refreshes_every_200_ms(client):
    tweets = TweetIndex(client, f"tweets-test-{uuid.uuid4().hex[:12]}")
    client.indices.create(index=tweets.index, body={"mappings": MAPPINGS})  # as an older deploy made it
    try:
        tweets.apply_schema()
        settings = client.indices.get_settings(index=tweets.index)[tweets.index]["settings"]["index"]
        assert settings["refresh_interval"] == "200ms"
    finally:
        client.indices.delete(index=tweets.index)
