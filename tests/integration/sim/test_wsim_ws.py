"""The websocket at /v1/api/ws over real loopback TLS: auth, connect burst, every topic,
heartbeats in sim time, session-status updates, reconnects and the ws faults."""

from __future__ import annotations

import itertools
import json
import ssl
import time

import pytest
from simsrv_helpers import AAPL, ACCT, api, place, place_confirmed, warm
from websockets.sync.client import connect
from ws_helpers import (
    barrier,
    burst,
    collect,
    is_closed,
    open_ws,
    recv,
    session_id,
    topic,
    wait_for,
    ws_url,
)

from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(60)

MD_ALWAYS = {"server_id", "conidEx", "conid", "_updated", "6119", "topic"}


def _no_questions(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        c.post("/iserver/questions/suppress",
               json={"messageIds": ["o163", "o10151", "o10153", "o383", "o451"]})


@pytest.mark.parametrize("cookie", ["plain", "json"])
def test_cookie_auth_gets_the_connect_burst_in_order(sim: RunningSim, cookie: str) -> None:
    with open_ws(sim, cookie) as ws:
        system, act, sts = burst(ws)
    assert system == {"topic": "system", "success": "simuser1", "isFT": False, "isPaper": True}
    assert act["topic"] == "act" and act["args"]["accounts"] == [ACCT]
    assert act["args"]["selectedAccount"] == ACCT
    assert sts["topic"] == "sts"
    assert sts["args"]["authenticated"] is True and sts["args"]["connected"] is True
    assert sts["args"]["competing"] is False


def test_without_cookie_waits_for_the_session_message(sim: RunningSim) -> None:
    with open_ws(sim, cookie=None) as ws:
        assert recv(ws) == {"message": "waiting for session"}
        ws.send('smd+265598+{"fields":["31"]}')  # ignored until authenticated
        assert recv(ws) == {"message": "waiting for session"}
        ws.send(json.dumps({"session": "0" * 32}))
        wrong = recv(ws)
        assert wrong is not None and wrong["topic"] == "error" and "tickle" in wrong["error"]
        ws.send(json.dumps({"session": session_id(sim)}))
        frames = burst(ws)
    assert [f["topic"] for f in frames] == ["system", "act", "sts"]


def test_wrong_cookie_is_not_authenticated(sim: RunningSim) -> None:
    ctx = ssl.create_default_context(cafile=str(sim.ca_file))
    with connect(ws_url(sim), ssl=ctx, additional_headers={"Cookie": "api=" + "f" * 32},
                 proxy=None) as ws:
        assert recv(ws) == {"message": "waiting for session"}


def test_smd_first_frame_full_then_only_changed_fields(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with open_ws(sim) as ws:
        burst(ws)
        ws.send(f'smd+{AAPL}+{{"fields":["31","84","86","83"]}}')
        first = wait_for(ws, topic(f"smd+{AAPL}"))
        assert first["31"] == "100.00" and first["84"] == "99.99" and first["86"] == "100.01"
        assert isinstance(first["83"], float)  # change % is a JSON number on the websocket
        assert set(first) >= MD_ALWAYS and first["conid"] == AAPL
        assert first["server_id"] == first["6119"]
        sim.set_market("AAPL", last="100.00", bid="99.98", ask="100.01")
        later = wait_for(ws, topic(f"smd+{AAPL}"))
        assert set(later) - MD_ALWAYS == {"84"} and later["84"] == "99.98"
        ws.send(f'smd+{AAPL}+{{"fields":["7059"]}}')  # resending adds a field
        added = wait_for(ws, topic(f"smd+{AAPL}"))
        assert "7059" in added
        ws.send(f"umd+{AAPL}+{{}}")
        barrier(ws)  # last size moves every sim second: frames queued before umd may trail it
        sim.set_market("AAPL", last="101.00", bid="100.99", ask="101.01")
        assert [f for f in collect(ws, 0.4) if f.get("topic") == f"smd+{AAPL}"] == []


def test_smd_bad_requests_get_an_error_frame(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        ws.send('smd+notaconid+{"fields":["31"]}')
        err = wait_for(ws, topic("error"))
        assert "smd+CONID" in err["error"]
        ws.send('smd+1+{"fields":["31"]}')
        assert "unknown conid 1" in wait_for(ws, topic("error"))["error"]
        ws.send("xyz+1")
        assert "unknown or unsupported topic" in wait_for(ws, topic("error"))["error"]


def test_heartbeat_every_ten_sim_seconds(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        assert collect(ws, 0.3) == []  # time scale 1: no heartbeat for 10 real seconds
        sim.advance(10)
        hb = wait_for(ws, topic("system"), timeout=2)
        assert isinstance(hb["hb"], int)


@pytest.mark.sim_options(time_scale=20)
def test_time_scale_shortens_heartbeats(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        beats = [wait_for(ws, topic("system"), timeout=2)["hb"] for _ in range(3)]
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    # ~10 s of sim time each (0.5 s real); the bounds leave room for a loaded test machine
    assert all(8_000 <= g <= 16_000 for g in gaps), gaps


def test_tic_gets_four_identical_replies(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        ws.send("tic")
        replies = [recv(ws) for _ in range(4)]
    assert replies[0] is not None and replies[0]["topic"] == "tic"
    assert replies[0]["alive"] is True and replies[0]["id"] == session_id(sim)
    assert all(r == replies[0] for r in replies)


def test_sor_snapshot_then_deltas(sim: RunningSim) -> None:
    _no_questions(sim)
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c:
        resting = place_confirmed(c, orderType="LMT", price=90, quantity=1)[1][0]["order_id"]
        with open_ws(sim) as ws:
            burst(ws)
            ws.send("sor+{}")
            snap = wait_for(ws, topic("sor"))
            row = next(r for r in snap["args"] if str(r["orderId"]) == resting)
            assert row["status"] == "Submitted" and row["ticker"] == "AAPL"
            assert row["orderDesc"].startswith("Buy 1 AAPL Limit 90.00")
            c.delete(f"/iserver/account/{ACCT}/order/{resting}")
            delta = wait_for(ws, topic("sor"))["args"][0]
            assert delta["orderId"] == int(resting) and delta["acct"] == ACCT
            assert delta["status"] == "Cancelled" and "ticker" not in delta
            filled = place_confirmed(c, orderType="MKT", quantity=5)[1][0]["order_id"]
            seen: list[dict[str, object]] = []
            wait_for(ws, lambda f: f.get("topic") == "sor" and any(
                a.get("orderId") == int(filled) and a.get("status") == "Filled"
                for a in f["args"]), seen=seen)
    new = [a for f in seen for a in f["args"] if a.get("orderId") == int(filled)]
    assert "ticker" in new[0]  # an order the subscription has not seen arrives whole
    last = new[-1]
    assert last["filledQuantity"] == 5.0 and last["remainingQuantity"] == 0.0
    assert last["sizeAndFills"] == "5" and "avgPrice" in last


def test_sor_filter_only_sends_matching_orders(sim: RunningSim) -> None:
    _no_questions(sim)
    with open_ws(sim) as ws:
        burst(ws)
        ws.send('sor+{"filters":["filled"]}')  # IBKR's REST spelling works too
        assert wait_for(ws, topic("sor"))["args"] == []
        with api(sim) as c:
            place_confirmed(c, orderType="LMT", price=1, quantity=1)
            filled = place_confirmed(c, orderType="MKT", quantity=1)[1][0]["order_id"]
        frame = wait_for(ws, topic("sor"))
        assert [a["orderId"] for a in frame["args"]] == [int(filled)]


def test_str_sends_each_execution_twice_without_then_with_commission(sim: RunningSim) -> None:
    _no_questions(sim)
    with api(sim) as c:
        before = place_confirmed(c, orderType="MKT", quantity=1)[1][0]["order_id"]
        with open_ws(sim) as ws:
            burst(ws)
            ws.send('str+{"realtimeUpdatesOnly":false,"days":1}')
            assert wait_for(ws, topic("str")) == {"topic": "str", "args": []}
            old = [wait_for(ws, topic("str"))["args"][0] for _ in range(2)]
            assert [r["order_id"] for r in old] == [int(before)] * 2
            after = place_confirmed(c, orderType="MKT", quantity=2)[1][0]["order_id"]
            bare, full = (wait_for(ws, topic("str"))["args"][0] for _ in range(2))
    assert "commission" not in old[0] and "commission" in old[1]
    assert bare["order_id"] == full["order_id"] == int(after)
    assert bare["execution_id"] == full["execution_id"]
    assert "commission" not in bare and float(full["commission"]) > 0
    assert {k: v for k, v in full.items() if k != "commission"} == bare


def test_str_realtime_only_skips_history(sim: RunningSim) -> None:
    _no_questions(sim)
    with api(sim) as c:
        place_confirmed(c, orderType="MKT", quantity=1)
        with open_ws(sim) as ws:
            burst(ws)
            ws.send('str+{"realtimeUpdatesOnly":true}')
            assert wait_for(ws, topic("str")) == {"topic": "str", "args": []}
            assert [f for f in collect(ws, 0.3) if f.get("topic") == "str"] == []


def test_spl_matches_rest_pnl(sim: RunningSim) -> None:
    _no_questions(sim)
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c, open_ws(sim) as ws:
        burst(ws)
        ws.send("spl+{}")
        first = wait_for(ws, topic("spl"))["args"][f"{ACCT}.Core"]
        assert first["mv"] == 0 and first["upl"] == 0 and first["rowType"] == 1
        place_confirmed(c, orderType="MKT", quantity=10)
        sim.advance(1)  # spl goes out at most once per sim second
        moved = wait_for(ws, lambda f: f.get("topic") == "spl"
                         and f["args"][f"{ACCT}.Core"]["mv"] != 0)["args"]
        rest = c.get("/iserver/account/pnl/partitioned").json()["upnl"]
    assert moved == rest, json.dumps([moved, rest])
    assert moved[f"{ACCT}.Core"]["mv"] == 1000.0


def test_subscriptions_do_not_survive_a_reconnect(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        ws.send(f'smd+{AAPL}+{{"fields":["31"]}}')
        wait_for(ws, topic(f"smd+{AAPL}"))
    sim.set_market("AAPL", last="150.00")
    with open_ws(sim) as ws:
        burst(ws)
        sim.set_market("AAPL", last="151.00")
        assert [f for f in collect(ws, 0.4) if f.get("topic", "").startswith("smd")] == []


def test_sts_reports_expiry_and_recovery(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        sim.fault("expire_session")
        down = wait_for(ws, topic("sts"))
        assert down["args"]["authenticated"] is False and "username" not in down["args"]
        with sim.client() as c:
            c.post("/v1/api/iserver/auth/ssodh/init", json={"publish": True, "compete": True})
        up = wait_for(ws, topic("sts"))
        assert up["args"]["authenticated"] is True


@pytest.mark.sim_options(competing_grace_s=5)
def test_sts_reports_a_competing_session(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        sim.fault("competing_session")
        assert wait_for(ws, topic("sts"))["args"] == {"competing": True}
        sim.advance(6)
        assert wait_for(ws, topic("sts"))["args"]["authenticated"] is False


def test_logout_ends_the_socket(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        with sim.client() as c:
            c.post("/v1/api/logout", content=b"")
        assert wait_for(ws, topic("sts"))["args"]["authenticated"] is False
        assert is_closed(ws)


def test_ws_drop_closes_the_socket_and_reconnect_works(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        sim.fault("ws_drop")
        assert is_closed(ws)
    with open_ws(sim) as ws:
        assert [f["topic"] for f in burst(ws)] == ["system", "act", "sts"]
        assert not is_closed(ws, timeout=0.3)  # the fault was used up


@pytest.mark.sim_options(time_scale=100)
def test_ws_silence_stops_everything_including_heartbeats(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        wait_for(ws, topic("system"), timeout=2)  # heartbeats flow (every 0.1 s real)
        sim.fault("ws_silence", seconds=300)  # 3 s real at this scale
        # the socket's pump takes the fault on its next turn: from then on nothing is sent
        deadline = time.monotonic() + 5
        while any(f["kind"] == "ws_silence" for f in sim.state()["faults"]):
            assert time.monotonic() < deadline, "the pump never took the ws_silence fault"
            time.sleep(0.01)
        collect(ws, 0.1)  # whatever was already in flight
        assert collect(ws, 0.6) == []
        wait_for(ws, topic("system"), timeout=6)  # and they come back afterwards


def test_ws_needs_no_warm_up_but_orders_placed_elsewhere_still_stream(sim: RunningSim) -> None:
    """A client may subscribe before any REST call besides /tickle (IBKR's sample does)."""
    with open_ws(sim) as ws:
        burst(ws)
        ws.send("sor+{}")
        assert wait_for(ws, topic("sor"))["args"] == []
        _no_questions(sim)
        with api(sim) as c:
            body = place(c, orderType="LMT", price=1, quantity=1).json()
        oid = int(body[0]["order_id"])
        assert wait_for(ws, topic("sor"))["args"][0]["orderId"] == oid


@pytest.mark.parametrize("kind", ["daily_reset", "restart"])
def test_a_new_session_id_ends_the_socket(sim: RunningSim, kind: str) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        sim.fault(kind)
        assert wait_for(ws, topic("sts"))["args"]["authenticated"] is False
        assert is_closed(ws)


def test_ech_hb_is_echoed(sim: RunningSim) -> None:
    with open_ws(sim) as ws:
        burst(ws)
        ws.send("ech+hb")
        assert ws.recv(timeout=5) == "ech+hb"


def test_sor_snapshot_is_todays_book(sim: RunningSim) -> None:
    _no_questions(sim)
    with api(sim) as c:
        old = place_confirmed(c, orderType="MKT", quantity=1)[1][0]["order_id"]
        resting = place_confirmed(c, orderType="LMT", price=1, quantity=1, tif="GTC")[1][0][
            "order_id"]
    sim.advance(25 * 3600)
    with open_ws(sim) as ws:
        burst(ws)
        ws.send("sor+{}")
        ids = [a["orderId"] for a in wait_for(ws, topic("sor"))["args"]]
    assert int(resting) in ids and int(old) not in ids
