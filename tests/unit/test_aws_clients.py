"""The AWS clients adapters build from the process's one botocore session (chirp.adapters.aws): built without I/O,
so their construction is checked here, where a wrong session API fails at once instead of on the first push."""

from __future__ import annotations

from chirp.adapters.apigateway.connections import management_client
from chirp.adapters.aws import aws_client
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
