"""The broker-outage hold is a wait, over the real service, Web API adapter and simulator.

interfaces.md ("Service"): nothing is sent while the hold lasts; it clears after reconnect
and reconciliation; a signal still unsent when its ttl_s runs out becomes EXPIRED and is
never sent late. The outage is the simulator's `restart` fault (sessions lost, IBeam logs in
again after `relogin_s` simulated seconds, divided by the time scale). Signals are posted
only once the service itself reports the hold (health not ready), so each one is decided
while the hold is up.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from api_stack import SIM_TIME_SCALE, Stack, start_stack

from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(120)

#: simulated seconds; at SIM_TIME_SCALE (50) the simulator stays logged out for 6 s
RELOGIN_S = 300
ENV = {"CATALYST_OMS_IN_DOUBT_POLL_S": "0.25", "CATALYST_GATEWAY_TIMEOUT_S": "1.5",
       "CATALYST_GATEWAY_ORDER_TIMEOUT_S": "1.5"}


def _post(stack: Stack, sid: str, ttl_s: str = "60") -> None:
    body = {"id": sid, "symbol": "AAPL", "side": "BUY", "quantity": "1", "order_type": "MKT",
            "ttl_s": ttl_s}
    response = stack.client.post("/v1/signals", json=body)
    assert response.status_code == 202, response.text


def _ready(stack: Stack) -> bool:
    return stack.client.get("/v1/health", params={"ready": 1}).status_code == 200


def _outage(stack: Stack) -> None:
    """Start the restart fault and return once the service holds (not ready)."""
    stack.sim.fault("restart", relogin_s=RELOGIN_S)
    deadline = time.monotonic() + RELOGIN_S / SIM_TIME_SCALE
    while _ready(stack):
        assert time.monotonic() < deadline, "the service never noticed the outage"
        time.sleep(0.05)


def _status(stack: Stack, sid: str) -> dict[str, Any]:
    view: dict[str, Any] = stack.client.get(f"/v1/signals/{sid}").json()
    return view


def _coid(sid: str) -> str:
    return str(ClientOrderId.for_signal(SignalId(sid)))


def test_a_signal_during_an_outage_waits_then_is_sent_once(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    with start_stack(sim_factory(time_scale=SIM_TIME_SCALE), tmp_path, "webapi", ENV) as web:
        _outage(web)
        _post(web, "ow-1")
        seen = set()
        while not _ready(web):  # the whole hold: it waits, it is not denied, nothing is sent
            view = _status(web, "ow-1")
            seen.add(view["status"])
            assert view["status"] == "RECEIVED", view
            assert web.orders_at_sim(_coid("ow-1")) == []
            time.sleep(0.1)
        assert seen == {"RECEIVED"}
        view = web.wait_status("ow-1", {"FILLED", "DENIED", "EXPIRED", "REJECTED"}, 30)
        assert view["status"] == "FILLED", view
        time.sleep(1)  # a late duplicate would show up here
        assert len(web.orders_at_sim(_coid("ow-1"))) == 1


def test_a_signal_whose_ttl_runs_out_during_the_outage_expires_unsent(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    with start_stack(sim_factory(time_scale=SIM_TIME_SCALE), tmp_path, "webapi", ENV) as web:
        _outage(web)
        requests_before = web.sim.state()["stats"]["requests_total"]
        _post(web, "ow-ttl", ttl_s="1")
        view = web.wait_status("ow-ttl", {"EXPIRED", "DENIED", "FILLED", "REJECTED"}, 20)
        assert view["status"] == "EXPIRED", view
        assert web.sim.state()["stats"]["requests_total"] > requests_before  # sim is polled
        deadline = time.monotonic() + 30
        while not _ready(web):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1)
        assert _status(web, "ow-ttl")["status"] == "EXPIRED"  # never sent late
        assert web.orders_at_sim(_coid("ow-ttl")) == []


def test_a_service_restart_during_the_outage_keeps_the_signal_waiting(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory(time_scale=SIM_TIME_SCALE)
    with start_stack(sim, tmp_path, "webapi", ENV) as web:
        _outage(web)
        relogged_at = time.monotonic() + RELOGIN_S / SIM_TIME_SCALE
        _post(web, "ow-r")
        time.sleep(0.5)
        assert _status(web, "ow-r")["status"] == "RECEIVED"
    # The service stopped during the hold: the journal still says RECEIVED (no decision
    # was made, nothing was sent).
    with sqlite3.connect(tmp_path / "journal.db") as db:
        (status,) = db.execute("SELECT status FROM signals WHERE id = 'ow-r'").fetchone()
    assert status == "RECEIVED"
    assert sim.state()["orders"] == []
    # The Web API adapter will not start against a gateway with no session, so the new
    # service starts once IBeam has logged in again; it sends the journaled signal once.
    time.sleep(max(0.0, relogged_at - time.monotonic()) + 0.5)
    with start_stack(sim, tmp_path, "webapi", ENV) as again:
        view = again.wait_status("ow-r", {"FILLED", "DENIED", "EXPIRED", "REJECTED"}, 30)
        assert view["status"] == "FILLED", view
        time.sleep(1)
        assert len(again.orders_at_sim(_coid("ow-r"))) == 1
