"""The OpenSearch probe: one GET of the cluster's health, SigV4-signed where the stage says so (AWS)."""

from __future__ import annotations

import json

import pytest
from botocore.credentials import Credentials

from chirp.adapters import aws, probes
from chirp.settings import Settings


class Answer:
    def __init__(self, status_code: int, body: dict):
        self.status_code, self.content = status_code, json.dumps(body).encode()


class RecordingHttp:
    """botocore's HTTP session as the probe uses it: keeps what was sent, answers as told."""

    def __init__(self, answer: Answer):
        self.answer, self.sent = answer, []

    def send(self, request):
        self.sent.append(request)
        return self.answer


@pytest.fixture
def http(monkeypatch):
    def install(answer: Answer) -> RecordingHttp:
        recording = RecordingHttp(answer)
        monkeypatch.setattr(probes, "_http", lambda: recording)
        return recording

    return install


def _settings(**values) -> Settings:
    return Settings.from_env({"OPENSEARCH_ENDPOINT": "search.example:443", **values})


def test_given_a_local_endpoint_when_probed_then_one_unsigned_get_of_the_cluster_health(http):
    sent = http(Answer(200, {"status": "yellow"}))
    status = probes.opensearch_cluster_status(_settings(OPENSEARCH_ENDPOINT="127.0.0.1:9200"))
    assert status == "yellow"
    [request] = sent.sent
    assert (request.method, request.url) == ("GET", "http://127.0.0.1:9200/_cluster/health")
    assert "Authorization" not in request.headers


def test_given_an_aws_domain_when_probed_then_the_get_is_sigv4_signed_for_es_with_the_session_token(http, monkeypatch):
    sent = http(Answer(200, {"status": "green"}))

    class LambdaSession:  # the function's role: temporary credentials with a session token
        @staticmethod
        def get_credentials():
            return Credentials("AKIDEXAMPLE", "secret", token="session-token")

    monkeypatch.setattr(aws, "session", lambda: LambdaSession)
    settings = _settings(OPENSEARCH_SCHEME="https", OPENSEARCH_SIGV4="true", AWS_REGION="eu-west-1")
    assert probes.opensearch_cluster_status(settings) == "green"
    [request] = sent.sent
    assert request.url == "https://search.example:443/_cluster/health"
    authorization = request.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in authorization
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token" in authorization
    assert request.headers["X-Amz-Security-Token"] == "session-token"


def test_given_the_domain_refuses_when_probed_then_the_probe_raises_naming_the_status(http):
    http(Answer(403, {"message": "forbidden"}))
    with pytest.raises(RuntimeError, match="HTTP 403"):
        probes.opensearch_cluster_status(_settings())
