"""`catalyst-ibkr demo` end to end as a subprocess: a trading morning, then a second run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "catalyst-ibkr")

# Two demo runs per backend; the Web API one paces as IBKR does (about 30 s a run on an idle
# machine), so the deadlines are generous for a loaded 2-core `pytest -n auto`.
pytestmark = pytest.mark.timeout(900)


def _demo(state_dir: Path, backend: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "demo", "--backend", backend, "--state-dir", str(state_dir), "--signals",
         str(REPO / "examples" / "signals.csv")],
        capture_output=True, text=True, timeout=420, cwd=state_dir, stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("backend", ["webapi", "tws"])
def test_demo_replays_the_morning_then_resumes_idempotently(tmp_path: Path,
                                                            backend: str) -> None:
    first = _demo(tmp_path, backend)
    out = first.stdout
    assert first.returncode == 0, out + first.stderr
    assert "Traceback" not in out + first.stderr
    assert (tmp_path / "demo.db").is_file()
    # Every denial the CSV promises, each with its reason code.
    for code in ("QUANTITY_EXCEEDS_MAX", "NOTIONAL_EXCEEDS_MAX", "PRICE_OUTSIDE_COLLAR",
                 "TRADING_HALTED", "INSTRUMENT_NOT_FOUND"):
        assert code in out, code
    assert re.search(r"Denied by risk \(9; no broker call for any\)", out)
    assert "Refused at intake (HTTP 422, nothing stored): line" in out and "m-029" in out
    assert "m-001 was posted 2 times; the same answer every time, one order." in out
    assert "Fills (23)" in out and "Positions and P&L" in out and "P&L: realized" in out
    assert "Not settled" not in out and "Resumed" not in out
    # the backend really was the one asked for, and the simulator's book has every cOID once
    if backend == "webapi":
        assert "Client Portal Web API over HTTPS" in out
        assert str(tmp_path / "sim" / "sim-cert.pem") in out  # trusted: its own certificate
        assert re.search(r"Gateway traffic: \d+ Client Portal requests, 0 answered 429", out)
    else:
        assert "TWS socket view" in out and "Gateway traffic: TWS socket API" in out
    assert "at most one per cOID" in out and "cOIDs sent twice" not in out

    second = _demo(tmp_path, backend)
    again = second.stdout
    assert second.returncode == 0, again + second.stderr
    assert "Resumed: 38 of 38 signal ids were already in the journal" in again
    assert "Fills (23)" in again  # the same fills: nothing was sent twice
    assert "at most one per cOID" in again
    counts = re.search(r"Signal outcomes: (.*)", out)
    assert counts is not None and counts.group(1) in again


def test_walkthrough_is_still_available(tmp_path: Path) -> None:
    result = subprocess.run([CLI, "demo", "--walkthrough", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Confirmation" in result.stdout and "Filled" in result.stdout
