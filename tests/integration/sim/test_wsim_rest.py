"""Part two of the REST side over real loopback TLS: history, unsubscribe, what-if, modify
with its questions, brackets and OCA, trades, and P&L consistency across every view."""

from __future__ import annotations

import concurrent.futures
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from simsrv_helpers import AAPL, ACCT, api, place, place_confirmed, warm

from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(60)

D = Decimal


def _dec(value: Any) -> Decimal:
    return D(str(value))


def _suppress_all(c: httpx.Client) -> None:
    c.post("/iserver/questions/suppress",
           json={"messageIds": ["o163", "o10151", "o10153", "o383", "o451"]})


# ------------------------------------------------------------------------------ history
def test_history_bars_are_aligned_consistent_and_reproducible(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        query = {"conid": AAPL, "period": "1d", "bar": "1h", "startTime": "20260105-16:00:00"}
        body = c.get("/iserver/marketdata/history", params=query).json()
        again = c.get("/iserver/marketdata/history", params=query).json()
    assert body["data"] == again["data"]
    bars = body["data"]
    assert len(bars) == 24 and body["points"] == 23
    assert body["symbol"] == "AAPL" and body["barLength"] == 3600
    assert bars[-1]["t"] == 1767628800000 - 3600_000  # the last bar ends at startTime
    assert all(b["t"] - a["t"] == 3600_000 for a, b in itertools.pairwise(bars))
    for bar in bars:
        assert bar["l"] <= min(bar["o"], bar["c"]) <= max(bar["o"], bar["c"]) <= bar["h"]
        assert bar["v"] > 0
    high = max(b["h"] for b in bars)
    assert body["high"].startswith(f"{round(high * 100)}/")


def test_history_bars_agree_with_the_quotes_at_those_instants(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        body = c.get("/iserver/marketdata/history", params={
            "conid": AAPL, "period": "30min", "bar": "1min",
            "startTime": "20260105-15:00:00"}).json()
    assert len(body["data"]) == 30
    market = sim.sim_state.market  # read-only white-box check: quotes at the bar edges
    for bar in body["data"]:
        start = datetime.fromtimestamp(bar["t"] / 1000, UTC)
        assert bar["o"] == float(market.quote(AAPL, start).last)
        assert bar["c"] == float(market.quote(AAPL, start + timedelta(seconds=59)).last)


@pytest.mark.parametrize(("params", "needle"), [
    ({"period": "2x"}, "period '2x' is not valid"),
    ({"period": "31min"}, "1..30"),
    ({"period": "1d", "bar": "7min"}, "bar '7min' is not valid"),
    ({"period": "1h", "bar": "1d"}, "bar must not be longer than period"),
    ({"period": "5d", "bar": "1min"}, "at most 1000 data points"),
    ({"period": "1d", "startTime": "yesterday"}, "startTime"),
    ({"period": "1d", "outsideRth": "maybe"}, "outsideRth"),
])
def test_history_bad_parameters_say_what_to_fix(
    sim: RunningSim, params: dict[str, str], needle: str
) -> None:
    with api(sim) as c:
        warm(c)
        r = c.get("/iserver/marketdata/history", params={"conid": AAPL, **params})
    assert r.status_code == 400
    assert needle in r.json()["error"]


@pytest.mark.sim_options(market_hours="nyse")
def test_history_regular_hours_only_unless_outside_rth(sim: RunningSim) -> None:
    # Monday 2026-01-05: regular session 14:30-21:00 UTC.
    query = {"conid": AAPL, "period": "1d", "bar": "30min", "startTime": "20260106-00:00:00"}
    with api(sim) as c:
        warm(c)
        rth = c.get("/iserver/marketdata/history", params=query).json()["data"]
        full = c.get("/iserver/marketdata/history",
                     params={**query, "outsideRth": "true"}).json()["data"]
    assert len(full) == 48 and len(rth) == 13
    assert rth[0]["t"] == 1767623400000  # 14:30 UTC


@pytest.mark.sim_options(pacing=True, time_scale=1, history_latency_s=2.0)
def test_history_allows_five_concurrent_requests(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)

    def one(_: int) -> int:
        with api(sim) as c:
            return c.get("/iserver/marketdata/history",
                         params={"conid": AAPL, "period": "1d", "bar": "1h"}).status_code

    with concurrent.futures.ThreadPoolExecutor(7) as pool:
        codes = sorted(pool.map(one, range(7)))
    assert codes == [200] * 5 + [429] * 2
    assert sim.state()["stats"]["rate_limited_total"] == 2
    with api(sim) as c:  # no penalty box for the concurrency cap
        assert c.get("/iserver/marketdata/history",
                     params={"conid": AAPL, "period": "1d", "bar": "1h"}).status_code == 200


# ------------------------------------------------------------------------------ unsubscribe
def test_unsubscribe_reopens_the_preflight_and_unsubscribeall(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        snap = {"conids": str(AAPL), "fields": "31"}
        assert c.get("/iserver/marketdata/snapshot", params=snap).json()[0].keys() == {
            "conid", "conidEx"}
        assert "31" in c.get("/iserver/marketdata/snapshot", params=snap).json()[0]
        assert c.post("/iserver/marketdata/unsubscribe", json={"conid": AAPL}).json() == {
            "success": True}
        r = c.post("/iserver/marketdata/unsubscribe", json={"conid": AAPL})
        assert r.status_code == 500 and r.json() == {"error": "unknown"}
        assert "31" not in c.get("/iserver/marketdata/snapshot", params=snap).json()[0]
        assert c.get("/iserver/marketdata/unsubscribeall").json() == {"unsubscribed": True}
        assert "31" not in c.get("/iserver/marketdata/snapshot", params=snap).json()[0]


# ------------------------------------------------------------------------------ what-if
def test_whatif_prices_the_order_without_placing_it(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c:
        warm(c)
        body = c.post(f"/iserver/account/{ACCT}/orders/whatif", json={"orders": [{
            "conid": AAPL, "side": "BUY", "orderType": "LMT", "price": 100, "quantity": 10,
            "tif": "DAY"}]}).json()
        zero = c.post(f"/iserver/account/{ACCT}/orders/whatif", json={"orders": [{
            "conid": AAPL, "side": "BUY", "orderType": "MKT", "quantity": 0, "tif": "DAY"}]})
    assert body["amount"] == {"amount": "1,000.00 USD (10 Shares)", "commission": "1 USD",
                              "total": "1,001.00 USD"}
    assert body["position"] == {"current": "0", "change": "10", "after": "10"}
    assert body["equity"]["change"] == "-1"
    assert body["initial"]["change"] == "500"
    assert body["error"] is None and body["warn"] is None
    assert zero.status_code == 500
    assert zero.json() == {"error": "Order size 0 is not valid. Please enter size greater than 0."}
    assert sim.state()["orders"] == []


def test_whatif_warns_without_market_data(sim: RunningSim) -> None:
    sim.control("POST", "/sim/market", {"symbol": "AAPL", "entitled": False})
    with api(sim) as c:
        warm(c)
        body = c.post(f"/iserver/account/{ACCT}/orders/whatif", json={"orders": [{
            "conid": AAPL, "side": "SELL", "orderType": "MKT", "quantity": 1,
            "tif": "DAY"}]}).json()
    assert body["warn"].startswith("21/You are trying to submit an order without having market")
    assert body["position"]["after"] == "-1"


# ------------------------------------------------------------------------------ modify
def _resting(c: httpx.Client, price: float = 99) -> str:
    oid: str = place_confirmed(c, orderType="LMT", price=price, quantity=1)[1][0]["order_id"]
    return oid


def test_modify_far_from_market_asks_o163_then_applies(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        oid = _resting(c)
        body = {"conid": AAPL, "orderType": "LMT", "side": "BUY", "price": 90,
                "quantity": 1, "tif": "DAY"}
        q = c.post(f"/iserver/account/{ACCT}/order/{oid}", json=body).json()
        assert q[0]["messageIds"] == ["o163"]
        assert c.get(f"/iserver/account/order/status/{oid}").json()["limit_price"] == "99.00"
        # the status call above discarded the pending modify; ask again and answer at once
        q = c.post(f"/iserver/account/{ACCT}/order/{oid}", json=body).json()
        done = c.post(f"/iserver/reply/{q[0]['id']}", json={"confirmed": True}).json()
        assert done[0]["order_id"] == oid
        assert c.get(f"/iserver/account/order/status/{oid}").json()["limit_price"] == "90.00"


def test_modify_declined_or_interrupted_changes_nothing(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        oid = _resting(c)
        body = {"conid": AAPL, "orderType": "LMT", "side": "BUY", "price": 80, "quantity": 1,
                "tif": "DAY"}
        q = c.post(f"/iserver/account/{ACCT}/order/{oid}", json=body).json()
        c.post(f"/iserver/reply/{q[0]['id']}", json={"confirmed": False})
        q = c.post(f"/iserver/account/{ACCT}/order/{oid}", json=body).json()
        c.get("/iserver/accounts")
        late = c.post(f"/iserver/reply/{q[0]['id']}", json={"confirmed": True})
        assert late.status_code == 503
        assert c.get(f"/iserver/account/order/status/{oid}").json()["limit_price"] == "99.00"


def test_modify_quantity_over_size_limit_asks_o383(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="10.00")
    with api(sim) as c:
        warm(c)
        oid = _resting(c, price=9.9)
        q = c.post(f"/iserver/account/{ACCT}/order/{oid}", json={
            "conid": AAPL, "orderType": "LMT", "side": "BUY", "price": 9.9, "quantity": 600,
            "tif": "DAY"}).json()
        assert q[0]["messageIds"] == ["o383"]
        c.post(f"/iserver/reply/{q[0]['id']}", json={"confirmed": True})
        status = c.get(f"/iserver/account/order/status/{oid}").json()
    assert status["total_size"] == "600.0"


@pytest.mark.parametrize(("change", "needle"), [
    ({"side": "SELL"}, "side cannot be changed"),
    ({"orderType": "MKT"}, "orderType cannot be changed"),
    ({"conid": 8314}, "conid cannot be changed"),
    ({"price": "cheap"}, "incorrect type"),
])
def test_modify_refuses_cancel_and_replace_changes(
    sim: RunningSim, change: dict[str, Any], needle: str
) -> None:
    sim.set_market("AAPL", last="100.00")
    with api(sim) as c:
        warm(c)
        oid = _resting(c)
        body = {"conid": AAPL, "orderType": "LMT", "side": "BUY", "price": 99, "quantity": 1,
                "tif": "DAY", **change}
        r = c.post(f"/iserver/account/{ACCT}/order/{oid}", json=body)
        assert r.status_code == 400 and needle in r.json()["error"]
        assert c.get(f"/iserver/account/order/status/{oid}").json()["limit_price"] == "99.00"


def test_modify_unknown_or_filled_order(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        _suppress_all(c)
        missing = c.post(f"/iserver/account/{ACCT}/order/123", json={"quantity": 2}).json()
        assert missing == {"error": "OrderID 123 doesn't exist"}
        oid = place(c, orderType="MKT", quantity=1).json()[0]["order_id"]
        done = c.post(f"/iserver/account/{ACCT}/order/{oid}", json={"quantity": 2}).json()
    assert "already Filled" in done["error"]


# ------------------------------------------------------------------------------ brackets
def test_bracket_children_wait_for_the_parent_then_one_cancels_the_other(
    sim: RunningSim,
) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c:
        warm(c)
        _suppress_all(c)
        body = {"orders": [
            {"conid": AAPL, "side": "BUY", "orderType": "LMT", "price": 99, "quantity": 10,
             "tif": "GTC", "cOID": "bracket-parent"},
            {"conid": AAPL, "side": "SELL", "orderType": "LMT", "price": 103, "quantity": 10,
             "tif": "GTC", "parentId": "bracket-parent", "isSingleGroup": True},
            {"conid": AAPL, "side": "SELL", "orderType": "STP", "price": 97, "quantity": 10,
             "tif": "GTC", "parentId": "bracket-parent", "isSingleGroup": True},
        ]}
        placed = c.post(f"/iserver/account/{ACCT}/orders", json=body).json()
        assert len(placed) == 3
        parent, take, stop = (p["order_id"] for p in placed)

        def status(oid: str) -> str:
            s: str = c.get(f"/iserver/account/order/status/{oid}").json()["order_status"]
            return s

        assert [status(o) for o in (parent, take, stop)] == [
            "Submitted", "PreSubmitted", "PreSubmitted"]
        sim.set_market("AAPL", last="98.90", bid="98.89", ask="98.91")  # parent fills
        assert status(parent) == "Filled"
        assert status(take) == "Submitted"
        sim.set_market("AAPL", last="103.10", bid="103.09", ask="103.11")  # take-profit fills
        assert [status(take), status(stop)] == ["Filled", "Cancelled"]
        positions = c.get(f"/portfolio/{ACCT}/positions/0").json()
    assert positions == []


def test_oca_group_without_parent(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c:
        warm(c)
        _suppress_all(c)
        body = {"orders": [
            {"conid": AAPL, "side": "BUY", "orderType": "LMT", "price": 98, "quantity": 1,
             "tif": "GTC", "cOID": "oca-a", "isSingleGroup": True},
            {"conid": AAPL, "side": "BUY", "orderType": "LMT", "price": 97, "quantity": 1,
             "tif": "GTC", "cOID": "oca-b", "isSingleGroup": True},
        ]}
        a, b = (p["order_id"] for p in c.post(f"/iserver/account/{ACCT}/orders",
                                               json=body).json())
        sim.set_market("AAPL", last="97.95", bid="97.94", ask="97.96")
        statuses = [c.get(f"/iserver/account/order/status/{o}").json()["order_status"]
                    for o in (a, b)]
    assert statuses == ["Filled", "Cancelled"]


# ------------------------------------------------------------------------------ P&L
def _realized_from_trades(trades: list[dict[str, Any]]) -> Decimal:
    """Average-cost realized P&L net of commissions (IBKR's convention), from trade rows."""
    qty = cost = realized = D(0)
    for t in sorted(trades, key=lambda r: (r["trade_time_r"], r["execution_id"])):
        size, price, fee = _dec(t["size"]), _dec(t["price"]), _dec(t["commission"])
        if t["side"] == "B":
            cost += size * price + fee
            qty += size
        else:
            avg = cost / qty
            realized += (price - avg) * size - fee
            cost -= avg * size
            qty -= size
    return realized


def test_realized_and_unrealized_pnl_agree_across_every_view(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    with api(sim) as c:
        warm(c)
        _suppress_all(c)
        place(c, orderType="MKT", quantity=10)
        place(c, orderType="MKT", quantity=5)
        sim.set_market("AAPL", last="104.00", bid="103.99", ask="104.01")
        place(c, orderType="MKT", quantity=6, side="SELL")
        sim.set_market("AAPL", last="102.50", bid="102.49", ask="102.51")
        positions = c.get(f"/portfolio/{ACCT}/positions/0").json()
        ledger = c.get(f"/portfolio/{ACCT}/ledger").json()["USD"]
        summary = c.get(f"/portfolio/{ACCT}/summary").json()
        pnl = c.get("/iserver/account/pnl/partitioned").json()["upnl"][f"{ACCT}.Core"]
        trades = c.get("/iserver/account/trades").json()
        snap = {"conids": str(AAPL), "fields": "73,75,79"}
        c.get("/iserver/marketdata/snapshot", params=snap)
        md = c.get("/iserver/marketdata/snapshot", params=snap).json()[0]
    cent = D("0.01")
    [pos] = positions
    assert pos["position"] == 9.0
    unrealized = _dec(pos["unrealizedPnl"])
    assert abs(unrealized - _dec(ledger["unrealizedpnl"])) < cent
    assert abs(unrealized - _dec(pnl["upl"])) < cent
    assert abs(unrealized - _dec(md["75"])) < cent
    realized = _realized_from_trades(trades)
    assert len(trades) == 3 and realized > 0
    assert abs(realized - _dec(pos["realizedPnl"])) < cent
    assert abs(realized - _dec(ledger["realizedpnl"])) < cent
    assert abs(realized - _dec(md["79"])) < cent
    nlv = _dec(summary["netliquidation"]["amount"])
    assert abs(nlv - _dec(pnl["nl"])) < cent
    assert abs(nlv - _dec(ledger["netliquidationvalue"])) < cent
    # same New York day as the start: daily P&L is everything earned since the start
    assert abs(_dec(pnl["dpl"]) - (realized + unrealized)) < cent
    assert abs(_dec(pnl["dpl"]) - (nlv - D(1_000_000))) < cent
    assert abs(_dec(pnl["mv"]) - _dec(pos["mktValue"])) < cent


def test_trades_rows_carry_ibkr_fields(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        _suppress_all(c)
        oid = place(c, orderType="MKT", quantity=3, cOID="trade-row").json()[0]["order_id"]
        [row] = c.get("/iserver/account/trades", params={"days": 1}).json()
        bad = c.get("/iserver/account/trades", params={"days": 9})
    assert row["order_id"] == int(oid) and row["order_ref"] == "trade-row"
    assert row["side"] == "B" and row["size"] == 3.0 and row["conid"] == AAPL
    assert row["order_description"].startswith("Bot 3 @ ")
    assert len(row["trade_time"]) == 17 and isinstance(row["trade_time_r"], int)
    assert bad.status_code == 400


@pytest.mark.sim_options(pacing=True)
def test_a_trailing_slash_names_the_same_endpoint_and_limit(sim: RunningSim) -> None:
    """ibind calls iserver/account/trades/ (with the slash), which the real gateway serves."""
    with api(sim) as c:
        warm(c)
        assert c.get("/iserver/account/trades/").status_code == 200
        assert c.get("/iserver/account/trades").status_code == 429  # 1 per 5 s, shared
