"""The deployed app, over HTTP through API Gateway in the local cloud."""

import requests


def test_given_the_deployed_stack_when_get_health_then_every_dependency_answers(cloud_env):
    response = requests.get(f"{cloud_env['CHIRP_API_URL']}/health", timeout=30)
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert set(body["dependencies"]) == {"dynamodb", "kinesis", "redis", "opensearch"}
    assert all(state["ok"] for state in body["dependencies"].values())


def test_given_no_token_when_calling_an_unknown_path_then_the_gateway_answers_4xx_json(cloud_env):
    response = requests.get(f"{cloud_env['CHIRP_API_URL']}/no-such-route", timeout=30)
    assert 400 <= response.status_code < 500
