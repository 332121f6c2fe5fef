from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from aws_cdk import NestedStack
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.bundling import LAYER_ARCHIVE, PipInstall, domain_bundler
from infra.catalog import ROOT
from infra.config import LOCAL, aws_stage

# cdk.json's context (its feature flags shape the template) as `cdk synth` gets it, with bundling off (no
# pip run per test session); cdk-nag stays on: synthesis fails on any finding.
CDK_CONTEXT = {**json.loads((ROOT / "cdk.json").read_text())["context"], "aws:cdk:bundling-stacks": []}
# An AWS stage as deployed with the Mastodon API at the root of its own domain, and its streaming API at another.
MASTODON_DOMAIN = "social.example.com"
MASTODON_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
MASTODON_STREAMING_DOMAIN = "streaming.social.example.com"
_AWS_CONTEXT = {
    "mastodon_domain": MASTODON_DOMAIN,
    "mastodon_certificate_arn": MASTODON_CERTIFICATE,
    "mastodon_streaming_domain": MASTODON_STREAMING_DOMAIN,
}


def _synth(stage: str) -> dict[str, dict]:
    """The stage's templates by stack: the stack's own (under its name) and each nested stack's (under the logical
    id of its AWS::CloudFormation::Stack resource in the stack)."""
    context = {**CDK_CONTEXT, **(_AWS_CONTEXT if stage != "local" else {})}
    app, stack = build_app(stage, context=context, builtin_cloud_formation_validation=False)
    app.synth()
    templates = {stack.stack_name: Template.from_stack(stack).to_json()}
    for nested in stack.node.find_all():
        if isinstance(nested, NestedStack):
            templates[stack.resolve(stack.get_logical_id(nested.nested_stack_resource))] = Template.from_stack(
                nested
            ).to_json()
    return templates


def _deployed(templates: dict[str, dict]) -> Template:
    """Everything the stage deploys as one template: the resources, parameters and outputs of the stack and its
    nested stacks (their logical ids never collide), so an assertion holds wherever a resource lives."""
    merged: dict[str, dict] = {}
    for template in templates.values():
        for section in ("Resources", "Parameters", "Outputs", "Conditions"):
            merged.setdefault(section, {})
            clashing = merged[section].keys() & template.get(section, {}).keys()
            assert not clashing, f"{section} in two stacks: {clashing}"
            merged[section].update(template.get(section, {}))
    return Template.from_json(merged)


@pytest.fixture(scope="session")
def local_stacks() -> dict[str, dict]:
    return _synth("local")


@pytest.fixture(scope="session")
def aws_stacks() -> dict[str, dict]:
    return _synth("prod")


@pytest.fixture(scope="session")
def local_template(local_stacks) -> Template:
    return _deployed(local_stacks)


@pytest.fixture(scope="session")
def aws_template(aws_stacks) -> Template:
    return _deployed(aws_stacks)


@pytest.fixture(params=["local", "prod"], scope="session")
def any_template(request, local_template, aws_template) -> Template:
    return local_template if request.param == "local" else aws_template


def _build_layers(folder: Path, zipped: bool) -> dict[str, Path]:
    """Every layer as the deploy builds it in one mode (pip for the Lambda platform; zips or files), by name: the
    dependency layers by their layers/ folder, the domain layer as "domain". A zipped build's bundle is one archive
    (LAYER_ARCHIVE): the layer is that archive extracted, as Lambda and MiniStack extract it."""
    bundlers = {
        requirements.parent.name: PipInstall(requirements, zipped)
        for requirements in sorted((ROOT / "layers").glob("*/requirements.txt"))
    }
    bundlers["domain"] = domain_bundler(zipped)
    built = {}
    for name, bundler in bundlers.items():
        bundle = folder / "bundles" / name
        bundle.mkdir(parents=True)
        bundler.try_bundle(str(bundle))
        if not zipped:
            built[name] = bundle
            continue
        assert [path.name for path in bundle.iterdir()] == [LAYER_ARCHIVE], name
        with zipfile.ZipFile(bundle / LAYER_ARCHIVE) as archive:
            archive.extractall(folder / name)
        built[name] = folder / name
    return built


@pytest.fixture(scope="session")
def built_layers(tmp_path_factory) -> dict[str, Path]:
    """The layers as the local stage deploys them (LOCAL.zipped_layers): pure-Python packages in one zip each."""
    assert LOCAL.zipped_layers
    return _build_layers(tmp_path_factory.mktemp("layers-zipped"), zipped=True)


@pytest.fixture(scope="session")
def built_file_layers(tmp_path_factory) -> dict[str, Path]:
    """The layers as an AWS stage deploys them (zipped_layers False): every package as files."""
    assert not aws_stage("prod").zipped_layers
    return _build_layers(tmp_path_factory.mktemp("layers-files"), zipped=False)


@pytest.fixture(params=["zipped", "files"], scope="session")
def layers_by_mode(request) -> tuple[str, dict[str, Path]]:
    """Each build of the layers in turn: (mode, layers by name)."""
    fixture = "built_layers" if request.param == "zipped" else "built_file_layers"
    return request.param, request.getfixturevalue(fixture)
