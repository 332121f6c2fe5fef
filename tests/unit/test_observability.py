"""One Tracer for the service: Powertools' where tracing is on, a stand-in that does nothing where it is off."""

import pytest

from chirp.observability import Untraced, tracing_on

LAMBDA = {"LAMBDA_TASK_ROOT": "/var/task"}


@pytest.mark.parametrize(
    ("environ", "traced"),
    [
        (LAMBDA, True),  # the AWS stage (infra/config.py tracing=True: POWERTOOLS_TRACE_DISABLED=false)
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}, False),  # the local stage
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({**LAMBDA, "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),  # outside Lambda: tests, scripts
    ],
)
def test_given_an_environment_when_asked_then_tracing_is_on_as_powertools_decides(environ, traced):
    assert tracing_on(environ) is traced


def test_given_tracing_off_when_a_function_is_decorated_then_it_is_the_same_function():
    def handler(event, context):
        return event

    untraced = Untraced()
    assert untraced.capture_lambda_handler(handler) is handler
    assert untraced.capture_method(handler) is handler
    assert untraced.capture_method(capture_response=False)(handler) is handler  # with options, as Powertools'
