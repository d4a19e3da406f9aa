"""The control API at /sim (interfaces.md) over real HTTPS."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from simsrv_helpers import api, place_confirmed, warm

from sim_fixtures import RunningSim


def test_state_shape(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        place_confirmed(c, orderType="MKT", quantity=1, cOID="c-1")
    state = sim.state()
    assert datetime.fromisoformat(state["now"]).tzinfo is not None
    order = state["orders"][0]
    assert set(order) == {"order_id", "cOID", "account", "conid", "symbol", "side",
                          "order_type", "quantity", "filled_quantity", "status"}
    assert order["cOID"] == "c-1" and order["status"] == "Filled"
    assert set(state["positions"][0]) == {"account", "conid", "symbol", "quantity", "avg_cost"}
    stats = state["stats"]
    assert set(stats) == {"requests_total", "rate_limited_total", "penalty_box_total",
                          "by_client"}


def test_clock_advances_now(sim: RunningSim) -> None:
    before = datetime.fromisoformat(sim.state()["now"])
    sim.advance(3600)
    after = datetime.fromisoformat(sim.state()["now"])
    assert after - before >= timedelta(seconds=3600)


def test_market_by_conid_and_symbol(sim: RunningSim) -> None:
    body = sim.control("POST", "/sim/market", {"conid": 265598, "last": 123.45})
    assert body["last"] == "123.45" and body["bid"] < body["ask"]
    body = sim.set_market("AAPL", bid="120.00", ask="120.10")
    assert (body["bid"], body["ask"]) == ("120.00", "120.10")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sim/market", {"symbol": "NOPE", "last": 1}),
        ("/sim/market", {"symbol": "AAPL", "last": -1}),
        ("/sim/market", {"symbol": "AAPL", "bid": 10, "ask": 9}),
        ("/sim/market", {"symbol": "AAPL"}),
        ("/sim/market", {"symbol": "AAPL", "last": 1, "colour": "red"}),
        ("/sim/clock", {"advance_s": -5}),
        ("/sim/clock", {"advance_s": "soon"}),
        ("/sim/clock", {}),
    ],
)
def test_control_bad_input_is_400(sim: RunningSim, path: str, body: object) -> None:
    with sim.client() as c:
        r = c.post(path, json=body)
    assert r.status_code == 400 and r.json()["error"]


def test_reset_returns_to_start_state(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        place_confirmed(c, orderType="MKT", quantity=1)
    sim.fault("ws_drop")
    sim.fault("expire_session")
    sim.reset()
    state = sim.state()
    assert state["orders"] == [] and state["positions"] == [] and state["faults"] == []
    assert state["stats"]["requests_total"] == 0
    assert state["session"]["authenticated"] is True
    with api(sim) as c:
        assert c.get("/iserver/marketdata/snapshot", params={"conids": "265598"}).status_code \
            == 400  # warm-up is needed again
