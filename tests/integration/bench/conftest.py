"""Make ``bench`` importable (it lives at the repo root, outside src/) and give every
simulator the benchmark starts a per-test certificate directory, so xdist workers never
race on one certificate file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(autouse=True)
def _bench_state_dir(tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.harness

    monkeypatch.setattr(bench.harness, "STATE_DIR", tmp_path_factory.getbasetemp() / "bench-sim")
