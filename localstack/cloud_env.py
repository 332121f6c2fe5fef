"""Read `.local/cloud.env`, the variables the local cloud writes for tests, benchmarks and shells.

Standard library only, so that any script can load it by path before a venv exists.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cloud_env_path() -> Path:
    return Path(os.environ.get("CHIRP_LOCAL_DIR", ROOT / ".local")) / "cloud.env"


def read_cloud_env(path: Path | None = None) -> dict[str, str]:
    """The `export KEY=value` lines of the cloud's env file as a dict (default: `cloud_env_path()`).

    Values may be shell-quoted (the file is also `source`d by shells)."""
    path = path or cloud_env_path()
    if not path.exists():
        raise FileNotFoundError(f"the local cloud is not running ({path} missing): run `make dev` first")
    values = {}
    for line in path.read_text().splitlines():
        key, separator, value = line.removeprefix("export ").partition("=")
        if separator and not line.lstrip().startswith("#"):
            values[key.strip()] = "".join(shlex.split(value))
    return values
