"""Where the benchmarks live, and the import path they need.

Importing this module puts the repository root (`infra`, `localstack`) and `shared/` (the `chirp` package) on
sys.path. `cloud` and `report` import it, so a benchmark that imports either of them before anything from
`chirp` (ruff's import order puts them first) can import the app's packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

for _path in (str(ROOT), str(ROOT / "shared")):
    if _path not in sys.path:
        sys.path.insert(0, _path)
