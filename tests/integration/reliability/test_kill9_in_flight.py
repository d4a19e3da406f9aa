"""Reliability (b)12 and (b)13 with a real crash: SIGKILL `catalyst-ibkr serve` while an order
POST is still inside the gateway, or while its outcome is in doubt, then restart on the same
SQLite journal. The simulator (in this process) outlives the service like IBeam's gateway.

The between-signals kill points are in tests/e2e/test_kill9.py; these are the two points
inside one send, where a naive gateway either loses the order or sends it twice:
- `latency`: the POST is held by the gateway when the process dies; the gateway then places
  it. The restarted service must find it by cOID (adopt), not send a second one;
- `drop_after_accept`: the order landed, the answer was lost, the service marked it in doubt
  and died before resolving it; the restart must adopt it.
Checked from the simulator's book: one order per cOID, every accepted signal FILLED, and the
restarted service's positions equal the simulator's.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rel_helpers import ORDER_POST, ServeProcess

from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(240)

SIGNALS = 6
HIT = 2  # the signal whose order POST the fault holds / drops
LIVE_ORDERS = r"/iserver/account/orders$"  # GET only: placing is /iserver/account/{acct}/orders
ENV = {"CATALYST_GATEWAY_ORDER_TIMEOUT_S": "1.5", "CATALYST_OMS_IN_DOUBT_POLL_S": "0.25",
       "CATALYST_OMS_IN_DOUBT_BUDGET_S": "8"}
# The first process looks at its in-doubt orders only every 30 s, so the kill surely lands
# while the dropped order is still in doubt (the restart polls fast again).
SLOW_RESOLVER = {**ENV, "CATALYST_OMS_IN_DOUBT_POLL_S": "30",
                 "CATALYST_OMS_IN_DOUBT_BUDGET_S": "60"}


def _body(n: int) -> dict[str, str]:
    return {"id": f"k9-{n}", "symbol": "AAPL", "side": "BUY", "quantity": "1",
            "order_type": "MKT"}


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.parametrize("fault", [
    # long enough that the kill surely lands while the POST is held, even on a loaded box
    pytest.param({"kind": "latency", "path": ORDER_POST, "ms": 8000}, id="killed_during_post"),
    pytest.param({"kind": "drop_after_accept", "path": ORDER_POST}, id="killed_while_in_doubt"),
])
def test_sigkill_inside_one_send_neither_loses_nor_duplicates_the_order(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, fault: dict[str, Any]
) -> None:
    sim = sim_factory()
    sim.set_market("AAPL", bid="190.00", ask="190.05", last="190.05")
    service = ServeProcess(tmp_path, sim, SLOW_RESOLVER)
    with httpx.Client(base_url=service.url, timeout=10) as client:
        for n in range(HIT):
            assert client.post("/v1/signals", json=_body(n)).status_code == 202
        _wait(lambda: len(sim.state()["orders"]) == HIT, "the first orders never landed")
        if fault["kind"] == "drop_after_accept":
            # Leave the first process no way to learn that the order landed, so the kill
            # surely lands while it is in doubt: the order stream is silenced and the list
            # its resolver reads fails (a lookup that happened to find the order would make
            # this a test of something else). The restart gets a healthy gateway again.
            sim.fault(kind="ws_silence", seconds=60)
            sim.fault(kind="http_error", path=LIVE_ORDERS, status=500, count=10_000)
        sim.fault(**fault)
        assert client.post("/v1/signals", json=_body(HIT)).status_code == 202
        # the fault has fired: the POST is inside the gateway (latency) or its answer is gone
        _wait(lambda: not [f for f in sim.state()["faults"] if f["kind"] == fault["kind"]],
              "the fault never fired")
        if fault["kind"] == "drop_after_accept":
            _wait(lambda: client.get(f"/v1/signals/k9-{HIT}").json()["status"] == "IN_DOUBT",
                  "the dropped answer never made the signal IN_DOUBT: "
                  f"{client.get(f'/v1/signals/k9-{HIT}').json()['status']}")
        else:
            assert len(sim.state()["orders"]) == HIT  # still held: not placed yet
    service.kill9()
    sim.fault(kind="clear")
    if fault["kind"] == "latency":  # the gateway finishes the held POST after the crash
        _wait(lambda: len(sim.state()["orders"]) == HIT + 1, "the held POST never landed", 60)

    service = ServeProcess(tmp_path, sim, ENV)
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for n in range(HIT + 1, SIGNALS):  # trading goes on after the restart
                assert client.post("/v1/signals", json=_body(n)).status_code == 202
            views: dict[str, Any] = {}

            def all_filled() -> bool:
                views.update({_body(n)["id"]: client.get(f"/v1/signals/k9-{n}").json()
                              for n in range(SIGNALS)})
                return all(v["status"] == "FILLED" for v in views.values())

            _wait(all_filled, "not every signal filled", timeout=90)
            positions = {p["symbol"]: Decimal(str(p["quantity"]))
                         for p in client.get("/v1/positions").json()}
    finally:
        service.stop()
    state = sim.state()
    per_coid = Counter(o["cOID"] for o in state["orders"])
    assert len(per_coid) == SIGNALS and max(per_coid.values()) == 1, per_coid
    assert per_coid[views[f"k9-{HIT}"]["client_order_id"]] == 1
    at_sim = {p["symbol"]: Decimal(str(p["quantity"])) for p in state["positions"]}
    assert at_sim == {"AAPL": Decimal(SIGNALS)}
    assert positions == at_sim
