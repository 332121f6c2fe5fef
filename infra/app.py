"""CDK entry point: `cdk synth -c stage=prod` (AWS) or the local stage (default; `make dev`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk

from infra.config import stage_config
from infra.nag import add_nag_checks
from infra.stack import ChirpStack


def build_app(stage: str | None = None, **app_options) -> tuple[cdk.App, ChirpStack]:
    app = cdk.App(**app_options)
    name = stage or app.node.try_get_context("stage") or os.environ.get("CHIRP_STAGE", "local")
    options = {
        key: app.node.try_get_context(key)
        for key in ("mastodon_domain", "mastodon_certificate_arn", "mastodon_streaming_domain", "redis_shards")
    }
    config = stage_config(name, **options)
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))
    stack = ChirpStack(app, f"Chirp-{config.name}", config=config, env=env)
    add_nag_checks(app, stack, config)
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
