from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.catalog import ROOT

# cdk.json's context (its feature flags shape the template) as `cdk synth` gets it, with bundling off (no
# pip run per test session); cdk-nag stays on: synthesis fails on any finding.
_CONTEXT = {**json.loads((ROOT / "cdk.json").read_text())["context"], "aws:cdk:bundling-stacks": []}


def _synth(stage: str) -> Template:
    app, stack = build_app(stage, context=_CONTEXT, builtin_cloud_formation_validation=False)
    app.synth()
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def local_template() -> Template:
    return _synth("local")


@pytest.fixture(scope="session")
def aws_template() -> Template:
    return _synth("prod")


@pytest.fixture(params=["local", "prod"], scope="session")
def any_template(request, local_template, aws_template) -> Template:
    return local_template if request.param == "local" else aws_template
