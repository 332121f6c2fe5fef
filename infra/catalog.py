"""Every Lambda of Chirp and what triggers it, declared once.

The CDK app builds functions and triggers from this list; the tests read it to find handlers and to
check the synthesized template. Pure data: importing it needs no CDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    authorized: bool = True


@dataclass(frozen=True)
class KinesisTrigger:
    """A consumer of the new-tweets stream, with partial batch responses and a bounded retry."""

    batch_size: int = 100
    max_batching_window_s: int = 1
    retry_attempts: int = 3
    max_record_age_s: int = 3600
    parallelization_factor: int = 2


@dataclass(frozen=True)
class S3Trigger:
    prefix: str


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    routes: tuple[ApiRoute, ...] = ()
    kinesis: KinesisTrigger | None = None
    s3: S3Trigger | None = None
    memory_mb: int = 512
    timeout_s: int = 15
    # Which resources the function may touch; the stack turns these into least-privilege grants.
    grants: frozenset[str] = field(default_factory=frozenset)

    @property
    def code_dir(self) -> Path:
        return FUNCTIONS_DIR / self.name

    @property
    def handler(self) -> str:
        return "handler.lambda_handler"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="health",
        description="GET /health: checks DynamoDB, Kinesis, Redis and OpenSearch from inside the VPC",
        routes=(ApiRoute("GET", "/health", authorized=False),),
        grants=frozenset({"tables:describe", "stream:describe", "redis", "opensearch:read"}),
    ),
)


def by_name(name: str) -> FunctionSpec:
    return next(spec for spec in FUNCTIONS if spec.name == name)
