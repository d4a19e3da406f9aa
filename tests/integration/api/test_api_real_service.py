"""The API over the real ExecutionService, trading against the simulator (either backend).

Everything crosses real loopback sockets: httpx -> uvicorn -> service -> adapter ->
ibkr_sim. The simulator's own book (`/sim/state`) is the witness: at most one order per
cOID, none for a denied or invalid signal, nothing left working after a kill.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_stack import SIM_TIME_SCALE, Stack, start_stack

from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["tws", "webapi"])
def stack(request: pytest.FixtureRequest, sim_factory: Callable[..., RunningSim],
          tmp_path: Path) -> Iterator[Stack]:
    sim = sim_factory(tws_port=0, time_scale=SIM_TIME_SCALE if request.param == "webapi" else 1)
    with start_stack(sim, tmp_path, request.param) as running:
        yield running


def _signal(sid: str, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "symbol": "AAPL", "side": "BUY", "quantity": "10", "order_type": "MKT",
            **extra}


def test_signal_is_filled_at_the_simulator_once(stack: Stack) -> None:
    r = stack.client.post("/v1/signals", json=_signal("r-1"))
    assert r.status_code == 202 and r.json()["status"] == "RECEIVED"
    view = stack.wait_status("r-1", {"FILLED"})
    assert view["filled_quantity"] in ("10", "10.0") and view["fills"]
    assert view["risk_decision"] == "ALLOWED" and view["broker_order_id"]
    at_sim = stack.orders_at_sim(view["client_order_id"])
    assert len(at_sim) == 1 and at_sim[0]["status"] == "Filled"
    positions = {p["symbol"]: p for p in stack.client.get("/v1/positions").json()}
    assert positions["AAPL"]["quantity"].startswith("10")
    assert stack.client.get("/v1/account").json()["account"] == "DU1234567"
    orders = stack.client.get("/v1/orders").json()
    assert [o["signal_id"] for o in orders] == ["r-1"]


def test_concurrent_duplicates_make_one_order_and_a_changed_body_409(stack: Stack) -> None:
    body = _signal("r-dup")

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=stack.url, timeout=30) as client:
            return client.post("/v1/signals", json=body)

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(post, range(10)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    view = stack.wait_status("r-dup", {"FILLED"})
    conflict = stack.client.post("/v1/signals", json={**body, "quantity": "11"})
    assert conflict.status_code == 409
    again = stack.client.post("/v1/signals", json=body)
    assert again.status_code == 202 and again.text == answers[0].text
    assert len(stack.orders_at_sim(view["client_order_id"])) == 1
    assert len(stack.orders_at_sim()) == 1


def test_invalid_and_denied_signals_never_reach_the_simulator(stack: Stack) -> None:
    bad = [_signal("r-bad-1", quantity="-1"), _signal("r-bad-2", quantity="NaN"),
           _signal("r-bad-3", order_type="LMT"), {**_signal("r-bad-4"), "extra": 1}]
    for body in bad:
        r = stack.client.post("/v1/signals", json=body)
        assert r.status_code == 422 and r.json()["error"]["issues"], r.text
        assert stack.client.get(f"/v1/signals/{body['id']}").status_code == 404
    raw = stack.client.post("/v1/signals", headers={"content-type": "application/json"},
                            content=b'{"id":"r-bad-5","symbol":"AAPL","side":"BUY",'
                                    b'"quantity":Infinity,"order_type":"MKT"}')
    assert raw.status_code == 422
    denied = stack.client.post("/v1/signals", json=_signal("r-big", quantity="5000"))
    assert denied.status_code == 202
    view = stack.wait_status("r-big", {"DENIED"})
    assert view["reason_code"] == "QUANTITY_EXCEEDS_MAX" and view["reason"]
    assert stack.orders_at_sim() == []


def test_cancel_modify_kill_against_the_simulator(stack: Stack) -> None:
    stack.client.post("/v1/signals", json=_signal("r-rest", order_type="LMT",
                                                   limit_price="185.00"))
    view = stack.wait_status("r-rest", {"SUBMITTED"})
    ref = view["client_order_id"]
    modified = stack.client.post(f"/v1/orders/{ref}/modify", json={"limit_price": "186.00"})
    assert modified.status_code == 202, modified.text
    stack.client.post("/v1/signals", json=_signal("r-rest-2", order_type="LMT",
                                                   limit_price="184.00", quantity="5"))
    second = stack.wait_status("r-rest-2", {"SUBMITTED"})
    cancelled = stack.client.post(f"/v1/orders/{second['client_order_id']}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    stack.wait_status("r-rest-2", {"CANCELLED"})
    assert stack.client.post("/v1/orders/no-such-order/cancel").status_code == 404

    kill = stack.client.post("/v1/kill")
    assert kill.status_code == 200, kill.text
    report = kill.json()
    assert report["trading_state"] == "HALTED" and report["verified"] is True
    assert all(o["status"] in ("Cancelled", "Filled") for o in stack.orders_at_sim())
    assert stack.client.get("/v1/risk").json()["trading_state"] == "HALTED"
    stack.client.post("/v1/signals", json=_signal("r-after-kill"))
    assert stack.wait_status("r-after-kill", {"DENIED"})["reason_code"] == "TRADING_HALTED"
    assert stack.client.post("/v1/risk/state", json={"state": "ACTIVE"}).status_code == 200


def test_events_resume_and_metrics_on_the_real_service(stack: Stack) -> None:
    stack.client.post("/v1/signals", json=_signal("r-ev"))
    stack.wait_status("r-ev", {"FILLED"})

    def read(last: int, until: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        with httpx.Client(base_url=stack.url, timeout=10) as c, \
                c.stream("GET", "/v1/events", headers={"Last-Event-ID": str(last)}) as s:
            for line in s.iter_lines():
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
                    if until(got):
                        break
        return got

    def filled(events: list[dict[str, Any]]) -> bool:
        return any(e["kind"] == "signal" and e["data"].get("id") == "r-ev"
                   and e["data"].get("status") == "FILLED" for e in events)

    history = read(0, filled)
    ids = [e["id"] for e in history]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert any(e["kind"] == "signal" and e["data"].get("status") == "RECEIVED" for e in history)
    assert any(e["kind"] == "fill" for e in history)
    middle = len(history) // 2
    resumed = read(history[middle]["id"], lambda got: len(got) == len(history) - middle - 1)
    assert [e["id"] for e in resumed] == ids[middle + 1:]
    text = stack.client.get("/metrics").text
    assert "catalyst_http_requests_total" in text
    families = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(families) > 2 and all(name.startswith("catalyst_") for name in families)
