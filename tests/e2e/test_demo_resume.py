"""`make demo` run twice resumes cleanly: the simulated account keeps its book between runs.

The journal remembers the first run's fills; a real IBKR account would still hold them, and
with the simulator's persistent book (``demo-sim.json``) so does the simulated one. So the
second run must see no drift, log no ERROR, and show the same positions on both sides.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "catalyst-ibkr")

pytestmark = pytest.mark.timeout(600)


def _demo(state_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "demo", "--state-dir", str(state_dir), "--signals",
         str(REPO / "examples" / "signals.csv"), *extra],
        capture_output=True, text=True, timeout=280, cwd=state_dir, stdin=subprocess.DEVNULL,
    )


def _positions(out: str) -> list[tuple[str, str, str]]:
    """(symbol, journal qty, IBKR qty) rows of the report's positions table."""
    table = out[out.index("Positions and P&L"):out.index("P&L: realized")]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 7 and re.fullmatch(r"[A-Z][A-Z ]*", cells[1]):
            rows.append((cells[1], cells[2], cells[7]))
    return rows


def _book_positions(book: Path) -> dict[str, str]:
    data = json.loads(book.read_text())
    return {h["symbol"]: h["quantity"] for h in data["portfolio"]["holdings"]
            if h["quantity"] not in ("0", "0E+0")}


def test_second_run_resumes_the_simulated_account_without_drift(tmp_path: Path) -> None:
    book = tmp_path / "demo-sim.json"
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"broker book new, kept in {book}" in first.stdout
    after_first = _book_positions(book)
    assert after_first, "the first run should leave positions on the simulated account"

    second = _demo(tmp_path)
    out, err = second.stdout, second.stderr
    assert second.returncode == 0, out + err
    assert f"broker book resumed from {book}" in out
    flat = " ".join(out.split())  # rich wraps long lines at the console width
    assert "the broker's positions match the journal (no drift)" in flat
    assert "DRIFT" not in out and "Traceback" not in out + err
    assert "drift" not in err.lower() and "[error" not in err.lower(), err
    rows = _positions(out)
    held = [(symbol, qty, ibkr) for symbol, qty, ibkr in rows if qty != "0"]
    assert held and all(qty == ibkr for _, qty, ibkr in held), rows
    assert {symbol: qty for symbol, qty, _ in held} == after_first
    assert _book_positions(book) == after_first

    # --fresh starts both sides over: a new journal and a new simulated account
    third = _demo(tmp_path, "--fresh")
    assert third.returncode == 0, third.stdout + third.stderr
    assert f"broker book new, kept in {book}" in third.stdout
    assert "Resumed" not in third.stdout
