"""The one Logger, Tracer and Metrics of the service; everybody imports these."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "chirp"


def tracing_on(environ: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own rule: traced in Lambda (LAMBDA_TASK_ROOT) unless POWERTOOLS_TRACE_DISABLED is truthy or a
    local emulator (SAM, Chalice) runs the function. The stage sets the variable (infra/config.py `tracing`)."""
    disabled = environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "y", "yes", "t", "on")
    emulated = environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE")
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not disabled and not emulated


class Untraced:
    """Powertools' Tracer as the functions use it (its two decorators, with or without options), doing nothing.
    Where tracing is off, the Tracer itself would still import the X-Ray SDK (20-40 ms of every cold start)
    only to switch it off."""

    @staticmethod
    def capture_method(method: Callable | None = None, **_options) -> Callable:
        return method if method is not None else lambda decorated: decorated

    capture_lambda_handler = capture_method


logger = Logger(service=SERVICE)
tracer: Tracer | Untraced = Tracer(service=SERVICE) if tracing_on() else Untraced()
metrics = Metrics(service=SERVICE, namespace="Chirp")
