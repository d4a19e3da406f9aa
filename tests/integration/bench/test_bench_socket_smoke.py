"""ib_async on the fake TWS, small: every quote and every order answered, no error 100."""

from __future__ import annotations

import pytest
from bench.report_model import WorkloadReport
from bench.socket_workloads import add_socket_orders, add_socket_quotes
from bench.web_workloads import Sizes

pytestmark = pytest.mark.timeout(120)

SMALL = Sizes(symbols=20, orders=5, time_scale=20)


def test_ib_async_quote_sweep_and_orders_complete_without_pacing_errors() -> None:
    quotes = add_socket_quotes(WorkloadReport("q", "q", ""), SMALL)
    row = quotes.tables[0].rows[0]
    assert row[3] == "0", row
    assert f"{SMALL.symbols}/{SMALL.symbols} quotes" in row[5], row
    orders = add_socket_orders(WorkloadReport("o", "o", ""), SMALL)
    row = orders.tables[0].rows[0]
    assert row[3] == "0", row
    assert f"{SMALL.orders}/{SMALL.orders} acknowledged, {SMALL.orders} at the sim, " \
           f"{SMALL.orders} cancelled" in row[5], row
