"""docs/benchmarks.md's layout: summary of goals, minimum derivations, tables, machine."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.harness import _ID  # noqa: E402
from bench.report import render  # noqa: E402
from bench.report_model import Goal, Table, WorkloadReport  # noqa: E402


def test_render_puts_goals_minimum_tables_and_machine_in_the_document() -> None:
    report = WorkloadReport(
        "quotes", "(1) Cold quote sweep", "500 symbols",
        tables=[Table(["Client", "Wall time"], [["ours", "1.50 s"], ["a|b", "-"]])],
        minimum=["12 requests, 1.00 s"],
        goals=[Goal("ours within 1.2x", False), Goal("other", None)],
    )
    missing = WorkloadReport("latency", "(4) Latency", "", unavailable="no service")
    doc = render([report, missing], "make bench", "full run", (1.0, 2.0, 3.0))
    assert "| (1) Cold quote sweep | ours within 1.2x | **not met** |" in doc
    assert "| (1) Cold quote sweep | other | not measured |" in doc
    assert "| (4) Latency | - | not available: no service |" in doc
    assert "- 12 requests, 1.00 s" in doc
    assert "| ours | 1.50 s |" in doc
    assert "| a\\|b | - |" in doc  # a pipe inside a cell cannot break the table
    assert "| CPUs (nproc) |" in doc and "| Python |" in doc and "1.00 / 2.00 / 3.00" in doc
    assert "Command: `make bench`" in doc


def test_request_mix_folds_ids_so_paths_group() -> None:
    assert _ID.sub("/{id}", "/iserver/account/DU1/order/1000000005") == \
        "/iserver/account/DU1/order/{id}"
    assert _ID.sub("/{id}", "/iserver/reply/8b19d36a-d0c2-4d46-8aa8-ebd00255ed75") == \
        "/iserver/reply/{id}"
    assert _ID.sub("/{id}", "/iserver/marketdata/snapshot") == "/iserver/marketdata/snapshot"
