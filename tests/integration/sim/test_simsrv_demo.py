"""``catalyst-ibkr demo`` runs the seed's paper-trade procedure end to end and exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_walks_through_and_exits_zero(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "catalyst-ibkr"), "demo", "--walkthrough", "--state-dir",
         str(tmp_path)], capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in ("Gateway authentication status", "Accounts", "AAPL contract id",
                 "Market data snapshot", "Confirmation", "Positions"):
        assert step in out
    assert "conid 265598" in out and "Filled" in out and "TLS verified against" in out
