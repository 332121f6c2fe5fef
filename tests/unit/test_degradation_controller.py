"""The degradation controller's handler, fed metrics by a fake source: what it answers and what it stores."""

from __future__ import annotations

import json

from chirp.composition import services
from chirp.degradation.controller import Signals, Tuning
from chirp.degradation.service import DegradationController
from tests.conftest import load_handler
from tests.unit.fakes import FakeLevelStore, FakeMetrics

QUIET = Signals(api_p99_ms=100, api_errors=0, api_requests=1000, iterator_age_ms=0)


def test_given_the_handler_with_a_fake_metrics_source_when_invoked_then_it_answers_and_stores_the_decision(
    lambda_context, monkeypatch
):
    store = FakeLevelStore()
    metrics = FakeMetrics(Signals(300, 30, 200, 0), QUIET, QUIET, QUIET)
    controller = DegradationController(store, metrics, Tuning(window_s=60, calm_runs=2, min_requests=10))
    monkeypatch.setattr(services(), "degradation_controller", controller, raising=False)
    handler = load_handler("degradation_controller")

    answers = [handler.lambda_handler({"source": "aws.events"}, lambda_context) for _ in range(4)]

    assert [a["effective"] for a in answers] == [3, 3, 2, 2]  # 15% errors: level 3; then two calm runs per step
    assert answers[0]["signals"]["api_error_rate"] == 0.15
    assert "error rate" in answers[0]["auto"]["reason"]
    assert metrics.windows == [60] * 4
    assert json.loads(json.dumps(answers))  # what `aws lambda invoke` prints
