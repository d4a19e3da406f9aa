"""Orders over real HTTPS: every reply question, suppression, invalidated replies, cOID
reuse, live orders' first call, cancel (one and -1), status, modify, fills in positions."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from simsrv_helpers import AAPL, ACCT, api, place, place_confirmed, warm

from sim_fixtures import RunningSim


def _question(body: object) -> dict[str, object]:
    assert isinstance(body, list) and "id" in body[0], body
    uuid.UUID(str(body[0]["id"]))
    q: dict[str, object] = body[0]
    return q


def test_o163_limit_more_than_3pct_above_or_below_last_then_o10153(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        for price in (104, 96):
            asked, final = place_confirmed(c, orderType="LMT", price=price, quantity=1)
            assert asked == ["o163", "o10153"]
            assert final[0]["order_status"] in ("Submitted", "PreSubmitted")
            assert isinstance(final[0]["order_id"], str)
        q = _question(place(c, orderType="LMT", price=1, quantity=1).json())
        text = q["message"][0]  # type: ignore[index]
        assert text.startswith('The following order "BUY 1 AAPL NASDAQ.NMS @ 1.00" price exceeds')
        assert "Percentage constraint of 3%" in text
        asked, _ = place_confirmed(c, orderType="LMT", price=102, quantity=1)
        assert asked == []


def test_o10153_offers_accept_and_continue(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        c.post("/iserver/questions/suppress", json={"messageIds": ["o163"]})
        q = _question(place(c, orderType="LMT", price=50, quantity=1).json())
    assert q["messageIds"] == ["o10153"] and q["isSuppressible"] is True
    assert q["messageOptions"] == ["Decline", "Accept and Continue"]
    assert "Confirm Mandatory Cap Price" in q["message"][0]  # type: ignore[index]


def test_o354_without_market_data(sim: RunningSim) -> None:
    sim.control("POST", "/sim/market", {"symbol": "AAPL", "entitled": False})
    with api(sim) as c:
        warm(c)
        asked, final = place_confirmed(c, orderType="MKT", quantity=1)
    assert asked == ["o354", "o10151"]
    assert "order_id" in final[0]


def test_o383_over_size_limit(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="10.00")
    with api(sim) as c:
        warm(c)
        q = _question(place(c, orderType="LMT", price=10, quantity=650).json())
    assert q["messageIds"] == ["o383"]
    assert q["message"] == ['The following order "BUY 650 AAPL NASDAQ.NMS" size exceeds the '
                            "Size Limit of 500.\nAre you sure you want to submit this order?"]


def test_o451_over_value_limit(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="300.00")
    with api(sim) as c:
        warm(c)
        q = _question(place(c, orderType="LMT", price=300, quantity=400).json())
    assert q["messageIds"] == ["o451"]
    assert "value estimate of 120,000.00 USD exceeds \nthe Total Value Limit of 100,000 USD" in (
        q["message"][0])  # type: ignore[index]


def test_o10151_for_market_orders(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        q = _question(place(c, orderType="MKT", quantity=1).json())
    assert q["messageIds"] == ["o10151"]
    assert q["message"][0].startswith(  # type: ignore[index]
        "A Market Order is an instruction to trade your order at any available price")


def test_suppression_and_reset(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        r = c.post("/iserver/questions/suppress", json={"messageIds": ["o10151"]})
        assert r.json() == {"status": "submitted"}
        assert "order_id" in place(c, orderType="MKT", quantity=1).json()[0]
        assert c.post("/iserver/questions/suppress/reset").json() == {"status": "submitted"}
        assert "id" in place(c, orderType="MKT", quantity=1).json()[0]


def test_reply_invalidated_by_any_other_request(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        q = _question(place(c, orderType="MKT", quantity=1).json())
        c.get("/iserver/auth/status")
        r = c.post(f"/iserver/reply/{q['id']}", json={"confirmed": True})
        assert r.status_code == 503 and "error" in r.json()
        r = c.post(f"/iserver/reply/{uuid.uuid4()}", json={"confirmed": True})
        assert r.status_code == 400 and r.json()["error"].startswith("reply id not found")
    assert sim.state()["orders"] == []


def test_reply_declined_discards_order(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        q = _question(place(c, orderType="MKT", quantity=1).json())
        body = c.post(f"/iserver/reply/{q['id']}", json={"confirmed": False}).json()
    assert "error" in body
    assert sim.state()["orders"] == []


def test_coid_reuse_is_refused_with_ibkrs_wording(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        _, first = place_confirmed(c, orderType="MKT", quantity=1, cOID="sig-42")
        assert "order_id" in first[0]
        again = place(c, orderType="MKT", quantity=1, cOID="sig-42")
        assert again.status_code == 200
        assert again.json() == {"error": "Order couldn't be submitted: Local order ID=sig-42 "
                                         "is already registered."}
    assert [o["cOID"] for o in sim.state()["orders"]] == ["sig-42"]
    sim.advance(24 * 3600 + 1)  # the cOID window has passed (and the idle session expired)
    with api(sim) as c:
        c.post("/iserver/reauthenticate")
        warm(c)
        c.post("/iserver/questions/suppress", json={"messageIds": ["o10151"]})
        assert "order_id" in place(c, orderType="MKT", quantity=1, cOID="sig-42").json()[0]


def test_live_orders_first_call_blank_then_book_and_force(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        _, placed = place_confirmed(c, orderType="MKT", quantity=2, cOID="lo-1")
        assert c.get("/iserver/account/orders").json() == {"orders": [], "snapshot": False}
        body = c.get("/iserver/account/orders").json()
        assert body["snapshot"] is True
        row = body["orders"][0]
        assert row["orderId"] == int(placed[0]["order_id"]) and row["order_ref"] == "lo-1"
        assert row["ticker"] == "AAPL" and isinstance(row["totalSize"], float)
        forced = c.get("/iserver/account/orders", params={"force": "true"}).json()
        assert forced == {"orders": [], "snapshot": False}
        filtered = c.get("/iserver/account/orders", params={"filters": "cancelled"}).json()
        assert filtered == {"orders": [], "snapshot": True}


def test_cancel_one_and_all(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        ids = [int(place_confirmed(c, orderType="LMT", price=p, quantity=1)[1][0]["order_id"])
               for p in (99, 98, 97.5)]
        one = c.delete(f"/iserver/account/{ACCT}/order/{ids[0]}").json()
        assert one == {"msg": "Request was submitted", "order_id": ids[0], "conid": AAPL,
                       "account": ACCT}
        every = c.delete(f"/iserver/account/{ACCT}/order/-1").json()
        assert every["msg"] == "Request was submitted"
        missing = c.delete(f"/iserver/account/{ACCT}/order/1").json()
        assert missing == {"error": "OrderID 1 doesn't exist"}
    assert {o["status"] for o in sim.state()["orders"]} == {"Cancelled"}


def test_order_status_and_unknown_order(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        oid = place_confirmed(c, orderType="LMT", price=99, quantity=3, cOID="st-1")[1][0][
            "order_id"]
        body = c.get(f"/iserver/account/order/status/{oid}").json()
        assert body["order_id"] == int(oid) and body["side"] == "B"
        assert body["order_status"] in ("Submitted", "PreSubmitted")
        assert body["total_size"] == "3.0" and body["limit_price"] == "99.00"
        r = c.get("/iserver/account/order/status/999999999999")
        assert r.status_code == 503
        assert r.json() == {"error": "Order 999999999999 is not found", "statusCode": 503}


def test_modify_changes_limit(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        oid = place_confirmed(c, orderType="LMT", price=99, quantity=1)[1][0]["order_id"]
        body = c.post(f"/iserver/account/{ACCT}/order/{oid}", json={
            "conid": AAPL, "orderType": "LMT", "side": "BUY", "price": 98.5, "quantity": 1,
            "tif": "DAY"}).json()
        assert body[0]["order_id"] == oid
        assert c.get(f"/iserver/account/order/status/{oid}").json()["limit_price"] == "98.50"


def test_fills_show_in_positions_summary_ledger_and_trades(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c:
        warm(c)
        place_confirmed(c, orderType="MKT", quantity=10, cOID="fill-1")
        rows = c.get(f"/portfolio/{ACCT}/positions/0").json()
        assert len(rows) == 1 and rows[0]["conid"] == AAPL and rows[0]["position"] == 10.0
        assert rows[0]["avgCost"] >= 100.01
        assert c.get(f"/portfolio/{ACCT}/positions/1").json() == []
        summary = c.get(f"/portfolio/{ACCT}/summary").json()
        ledger = c.get(f"/portfolio/{ACCT}/ledger").json()
        trades = c.get("/iserver/account/trades").json()
    cash = Decimal(str(summary["totalcashvalue"]["amount"]))
    nlv = Decimal(str(summary["netliquidation"]["amount"]))
    assert abs(nlv - cash - Decimal(str(rows[0]["mktValue"]))) < Decimal("0.01")
    assert ledger["USD"]["cashbalance"] == float(cash) and ledger["BASE"]["endofbundle"] == 1
    assert trades[0]["order_ref"] == "fill-1" and trades[0]["side"] == "B"
    assert re.fullmatch(r"[0-9a-f]{8}\.[0-9a-f]{8}\.\d\d\.\d\d", trades[0]["execution_id"])
    assert sim.state()["positions"] == [{"account": ACCT, "conid": AAPL, "symbol": "AAPL",
                                         "quantity": "10", "avg_cost": str(
                                             Decimal(str(rows[0]["avgCost"])))}]


def test_stop_and_stop_limit_are_accepted(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        _, stp = place_confirmed(c, orderType="STP", price=99, quantity=1, side="SELL")
        _, stl = place_confirmed(c, orderType="STP LMT", price=101.5, auxPrice=101,
                                 quantity=1, outsideRTH=True, tif="GTC")
        assert "order_id" in stp[0] and "order_id" in stl[0]
    types = sorted(o["order_type"] for o in sim.state()["orders"])
    assert types == ["STP", "STP_LMT"]


def test_pnl_partitioned_and_account_switch(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        place_confirmed(c, orderType="MKT", quantity=5)
        pnl = c.get("/iserver/account/pnl/partitioned").json()["upnl"][f"{ACCT}.Core"]
        assert pnl["rowType"] == 1 and pnl["mv"] > 0
        assert c.post("/iserver/account", json={"acctId": ACCT}).json() == {
            "set": True, "acctId": ACCT}
        assert c.post("/iserver/account", json={"acctId": "U1"}).status_code == 400


def test_limit_fills_when_crossed_and_ioc_remainder_cancels(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c:
        warm(c)
        crossing = place_confirmed(c, orderType="LMT", price=100.05, quantity=2)[1]
        ioc = place_confirmed(c, orderType="LMT", price=99.00, quantity=1, tif="IOC")[1]
        for placed, expected in ((crossing, "Filled"), (ioc, "Cancelled")):
            oid = placed[0]["order_id"]
            assert c.get(f"/iserver/account/order/status/{oid}").json()[
                "order_status"] == expected
