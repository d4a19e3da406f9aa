"""The theoretical minimums the benchmark report divides by (cpapi.md §5-§7)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.minimums import (  # noqa: E402
    dashboard_minimum,
    orders_minimum,
    paced_floor_s,
    quotes_minimum,
    socket_orders_minimum,
    socket_quotes_minimum,
)


def test_paced_floor_counts_whole_windows_after_the_first_burst() -> None:
    assert paced_floor_s(0) == 0
    assert paced_floor_s(1) == 0
    assert paced_floor_s(10) == 0  # ten fit in the first second
    assert paced_floor_s(11) == 1  # the 11th waits one window
    assert paced_floor_s(302) == 30


def test_quote_sweep_minimum_for_500_symbols() -> None:
    m = quotes_minimum(500)
    assert (m.requests, m.seconds) == (12, 1.0)  # accounts + stocks + 5 x (pre-flight+read)
    assert quotes_minimum(500, time_scale=10).seconds == 0.1


def test_orders_minimum_suppresses_once_and_shows_the_answering_path() -> None:
    m = orders_minimum(100)
    assert (m.requests, m.seconds) == (103, 10.0)
    assert "302 requests, 30 s" in m.derivation


def test_dashboard_minimum_is_bound_by_the_five_second_endpoints() -> None:
    m = dashboard_minimum(60, pages=3)
    assert m.refreshes == 12
    assert m.requests == 1 + 12 * 7


def test_socket_minimums_use_fifty_messages_per_second() -> None:
    assert (socket_quotes_minimum(500).requests, socket_quotes_minimum(500).seconds) == (1001, 20)
    assert (socket_orders_minimum(100).requests, socket_orders_minimum(100).seconds) == (102, 2)
