"""Small variants of the benchmarks, asserting correctness only (never a time).

Each runs the real harness: a fresh paced simulator per client, the client in its own
process, the simulator's own request and 429 counts. Time scale 20 keeps IBKR's windows
short; our client's pacing uses the same scale, so zero 429s is a real claim.
"""

from __future__ import annotations

import pytest
from bench.harness import PeerRun
from bench.web_workloads import (
    PEERS,
    Sizes,
    run_dashboard,
    run_orders,
    run_quotes,
    seed_plan,
)

pytestmark = pytest.mark.timeout(120)

SMALL = Sizes(symbols=30, orders=6, dashboard_s=60, positions=120, time_scale=20)
OURS = frozenset({"ours"})


def _rows(report_rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row for row in report_rows}


def _ours_label() -> str:
    return next(p.label for p in PEERS if p.name == "ours")


def test_quote_sweep_gets_every_quote_without_a_429() -> None:
    report = run_quotes(SMALL, OURS)
    row = _rows(report.tables[0].rows)[_ours_label()]
    assert row[3] == "0", row  # 429s
    assert f"{SMALL.symbols}/{SMALL.symbols} quotes with last, bid, ask" in row[5], row


def test_orders_are_all_answered_and_cancelled_without_a_429() -> None:
    report = run_orders(SMALL, frozenset({"ours", "ours-answer"}))
    rows = _rows(report.tables[0].rows)
    assert len(rows) == 2
    for row in rows.values():
        assert row[3] == "0", row
        assert f"{SMALL.orders}/{SMALL.orders} answered, {SMALL.orders} at the sim, " \
               f"{SMALL.orders} cancelled" in row[5], row


def test_dashboard_refreshes_across_pages_without_a_429() -> None:
    report = run_dashboard(SMALL, OURS)
    row = _rows(report.tables[0].rows)[_ours_label()]
    assert row[3] == "0", row
    assert int(row[4]) >= 1, row  # refreshes completed
    assert "full refreshes" in row[6] and "failed" not in row[6], row


@pytest.mark.shared
def test_a_client_without_pacing_is_stopped_at_its_first_429(shared_dir: object) -> None:
    """The harness's own promise: the seed client (no pacer) is cut off in the box."""
    assert seed_plan().is_file()
    # time scale 1: at a faster scale the sim's 1 s window could outpace the client itself
    report = run_quotes(Sizes(symbols=30, time_scale=1), frozenset({"seed"}))
    row = report.tables[0].rows[0]
    assert "penalty box after" in row[5], row
    accepted = int(row[5].split("penalty box after ")[1].split()[0])
    assert accepted == 10, row  # IBKR's 10 per second, the 11th is refused
    assert int(row[3]) >= 1


def test_peer_run_reports_the_box_only_after_a_429() -> None:
    run = PeerRun("x", requests=5)
    assert not run.penalty_boxed
    run.stopped_after = 4
    assert run.penalty_boxed
