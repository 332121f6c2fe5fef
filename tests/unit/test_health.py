import json

from chirp.health import check_dependencies
from tests.conftest import load_handler


def _down() -> None:
    raise ConnectionError("connection refused")


def test_given_every_probe_answers_when_checked_then_the_report_is_ok():
    report = check_dependencies({"redis": lambda: None, "dynamodb": lambda: None})
    assert report.ok
    assert set(report.dependencies) == {"redis", "dynamodb"}
    assert all(state.ok and state.error is None for state in report.dependencies.values())


def test_given_one_probe_fails_when_checked_then_it_alone_is_reported_by_the_kind_of_failure_only():
    report = check_dependencies({"redis": _down, "dynamodb": lambda: None})
    assert not report.ok
    assert report.dependencies["dynamodb"].ok
    assert report.dependencies["redis"].error == "ConnectionError"  # public: no address, no message


def _published(capsys) -> list:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def test_given_a_dependency_down_when_get_health_then_503_names_it_and_counts_it(
    monkeypatch, capsys, api_event, lambda_context
):
    handler = load_handler("health")
    monkeypatch.setattr(handler, "dependency_probes", lambda settings: {"redis": _down, "kinesis": lambda: None})
    response = handler.lambda_handler(api_event("GET", "/health"), lambda_context)
    body = json.loads(response["body"])
    assert response["statusCode"] == 503
    assert body["dependencies"]["redis"]["ok"] is False
    assert body["dependencies"]["kinesis"]["ok"] is True
    assert [metric["UnhealthyDependencies"] for metric in _published(capsys)] == [[1.0]]  # EMF values are lists


def test_given_every_dependency_up_when_get_health_then_200_and_zero_is_published(
    monkeypatch, capsys, api_event, lambda_context
):
    """Zero is published too, so the alarm tells "all healthy" from "nobody checked"."""
    handler = load_handler("health")
    monkeypatch.setattr(handler, "dependency_probes", lambda settings: {"redis": lambda: None})
    response = handler.lambda_handler(api_event("GET", "/health"), lambda_context)
    assert response["statusCode"] == 200
    assert [metric["UnhealthyDependencies"] for metric in _published(capsys)] == [[0.0]]


def test_given_the_schedule_when_it_fires_then_the_check_runs_and_publishes_without_an_http_answer(
    monkeypatch, capsys, lambda_context
):
    handler = load_handler("health")
    monkeypatch.setattr(handler, "dependency_probes", lambda settings: {"redis": _down})
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    report = handler.lambda_handler(scheduled, lambda_context)
    assert report["ok"] is False
    assert "statusCode" not in report
    assert [metric["UnhealthyDependencies"] for metric in _published(capsys)] == [[1.0]]
