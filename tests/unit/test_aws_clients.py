"""The AWS clients adapters build from the process's one botocore session (chirp.adapters.aws): built without I/O,
so their construction is checked here, where a wrong session API fails at once instead of on the first push."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import UnknownServiceError

from chirp.adapters.apigateway.connections import management_client
from chirp.adapters.aws import SERVICES, aws_client, session
from chirp.settings import Settings


def test_given_the_shared_session_when_the_connections_client_is_built_then_it_targets_the_websocket_stage():
    settings = Settings(WEBSOCKET_API_ID="abc123", WEBSOCKET_STAGE="v1", AWS_REGION="eu-west-1", AWS_ENDPOINT_URL=None)

    client = management_client(settings, max_in_flight=4)

    assert client.meta.service_model.service_name == "apigatewaymanagementapi"
    assert client.meta.endpoint_url == "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"
    assert client.meta.config.max_pool_connections == 4


def test_given_a_service_when_its_client_is_asked_twice_then_one_client_serves_the_process():
    settings = Settings(AWS_REGION="eu-west-1")
    assert aws_client("sqs", settings) is aws_client("sqs", settings)
    assert aws_client("sqs", settings).meta.region_name == "eu-west-1"


def test_given_each_service_chirp_calls_when_its_client_is_built_then_botocore_knows_it():
    settings = Settings(AWS_REGION="eu-west-1")
    for service in SERVICES:
        assert aws_client(service, settings).meta.service_model.service_name == service


def test_given_a_service_chirp_does_not_call_when_its_client_is_built_then_it_is_refused():
    with pytest.raises(UnknownServiceError):
        session().create_client("lambda", region_name="eu-west-1")


def test_given_a_new_process_when_its_first_client_is_built_then_botocore_lists_no_service_folders(monkeypatch):
    # Listing the 400-odd service folders (and a stat of each) was a third of a cold start's first client.
    listed = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": listed.append(path) or real_listdir(path))
    session.cache_clear()
    aws_client.cache_clear()
    try:
        aws_client("sqs", Settings(AWS_REGION="eu-west-1"))
    finally:
        session.cache_clear()
        aws_client.cache_clear()
    assert len(listed) <= 5  # the service's own folder: its API versions
