"""Marks in /v1/positions follow the market, over the real Web API adapter and simulator.

The market moves at the simulator (POST /sim/market) with nothing traded; within one mark
refresh (once per reconciliation interval, set short here) the positions view shows the new
mark and the time of the quote it came from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from api_stack import SIM_TIME_SCALE, start_stack

from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(90)

INTERVAL_S = 2.0


def test_positions_show_the_new_mark_after_the_market_moves(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = {"CATALYST_OMS_RECONCILE_INTERVAL_S": str(INTERVAL_S)}
    with start_stack(sim_factory(time_scale=SIM_TIME_SCALE), tmp_path, "webapi", env) as web:
        body = {"id": "mk-1", "symbol": "AAPL", "side": "BUY", "quantity": "3",
                "order_type": "MKT"}
        assert web.client.post("/v1/signals", json=body).status_code == 202
        assert web.wait_status("mk-1", {"FILLED", "DENIED", "REJECTED"})["status"] == "FILLED"
        (before,) = web.client.get("/v1/positions").json()
        assert Decimal(before["mark_price"]) < Decimal(200), before
        web.sim.set_market("AAPL", bid="250.00", ask="250.10", last="250.10")
        moved_at = time.monotonic()
        deadline = moved_at + 2 * INTERVAL_S + 3  # one refresh, plus the loop and the read
        while True:
            (now,) = web.client.get("/v1/positions").json()
            if now["mark_price"] is not None and Decimal(now["mark_price"]) > 200:
                break
            assert time.monotonic() < deadline, (before, now)
            time.sleep(0.1)
        assert Decimal(now["mark_price"]) == Decimal("250.05"), now
        assert now["mark_time"] is not None
        assert before["mark_time"] is None or (
            datetime.fromisoformat(now["mark_time"]) > datetime.fromisoformat(before["mark_time"]))
        avg = Decimal(now["avg_price"])
        assert Decimal(now["unrealized_pnl"]) == pytest.approx(3 * (Decimal("250.05") - avg),
                                                               abs=Decimal("0.05"))
