"""Every fault kind of interfaces.md, injected through POST /sim/faults, over real HTTPS."""

from __future__ import annotations

import time

import httpx
import pytest
from simsrv_helpers import api, place, warm

from sim_fixtures import RunningSim


def test_http_error_hits_matching_path_count_times(sim: RunningSim) -> None:
    sim.fault("http_error", path=r"^/v1/api/iserver/accounts$", status=503, count=2)
    with api(sim) as c:
        assert c.get("/iserver/auth/status").status_code == 200  # path does not match
        first, second = c.get("/iserver/accounts"), c.get("/iserver/accounts")
        assert (first.status_code, second.status_code) == (503, 503)
        assert first.text == "Service Unavailable"
        assert c.get("/iserver/accounts").status_code == 200


def test_http_error_json_status(sim: RunningSim) -> None:
    sim.fault("http_error", path="tickle", status=429)
    with api(sim) as c:
        r = c.post("/tickle")
        assert r.status_code == 429 and r.json() == {"error": "Too Many Requests",
                                                     "statusCode": 429}
    stats = sim.state()["stats"]  # every 429 sent is counted, injected ones too
    assert stats["rate_limited_total"] == 1 and stats["penalty_box_total"] == 0


def test_http_error_path_needs_full_prefix_to_anchor(sim: RunningSim) -> None:
    sim.fault("http_error", path=r"^/iserver/accounts", status=500)
    with api(sim) as c:
        assert c.get("/iserver/accounts").status_code == 200  # full path starts /v1/api


def test_latency_delays_matching_request(sim: RunningSim) -> None:
    sim.fault("latency", path="auth/status", ms=300)
    with api(sim) as c:
        started = time.monotonic()
        assert c.get("/iserver/auth/status").status_code == 200
        assert time.monotonic() - started >= 0.29


def test_drop_after_accept_places_order_but_sends_nothing(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        c.post("/iserver/questions/suppress", json={"messageIds": ["o10151"]})
        sim.fault("drop_after_accept", path="/orders$")
        with pytest.raises(httpx.TransportError):
            place(c, orderType="MKT", quantity=1, cOID="drop-1")
    orders = sim.state()["orders"]
    assert [o["cOID"] for o in orders] == ["drop-1"]
    with api(sim) as c:  # the server keeps serving afterwards
        assert c.get("/iserver/auth/status").status_code == 200


def test_drop_after_accept_on_a_question(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        sim.fault("drop_after_accept", path="/orders$")
        with pytest.raises(httpx.TransportError):
            place(c, orderType="MKT", quantity=1)
    assert sim.state()["orders"] == []


@pytest.mark.parametrize(
    ("spec", "described"),
    [
        ({"kind": "ws_drop"}, {"kind": "ws_drop", "count": 1}),
        ({"kind": "ws_silence", "seconds": 20}, {"kind": "ws_silence", "count": 1,
                                                  "seconds": 20.0}),
        ({"kind": "tws_disconnect", "count": 2}, {"kind": "tws_disconnect", "count": 2}),
    ],
)
def test_stored_faults_are_listed_until_cleared(
    sim: RunningSim, spec: dict[str, object], described: dict[str, object]
) -> None:
    answer = sim.control("POST", "/sim/faults", spec)
    assert answer["accepted"] == described
    assert sim.state()["faults"] == [described]
    sim.fault("clear")
    assert sim.state()["faults"] == []


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "nope"},
        {"kind": "http_error", "path": "x"},
        {"kind": "http_error", "status": 200},
        {"kind": "latency", "path": "("},
        {"kind": "latency", "ms": -1},
        {"kind": "restart", "extra": 1},
        {"kind": "http_error", "status": 500, "count": 0},
        ["not", "an", "object"],
    ],
)
def test_bad_fault_is_refused_and_changes_nothing(sim: RunningSim, spec: object) -> None:
    with sim.client() as c:
        r = c.post("/sim/faults", json=spec)
    assert r.status_code == 400 and r.json()["error"]
    assert sim.state()["faults"] == []
