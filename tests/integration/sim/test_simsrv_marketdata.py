"""The /accounts warm-up gate and snapshot pre-flight over real HTTPS."""

from __future__ import annotations

from decimal import Decimal

from simsrv_helpers import AAPL, api, warm

from sim_fixtures import RunningSim

MSFT_FIELDS = "31,84,86"


def test_warmup_gate_blocks_orders_and_snapshot_until_iserver_accounts(sim: RunningSim) -> None:
    with api(sim) as c:
        for r in (
            c.get("/iserver/marketdata/snapshot", params={"conids": AAPL}),
            c.post("/iserver/account/DU1234567/orders", json={"orders": []}),
            c.get("/iserver/account/orders"),
        ):
            assert r.status_code == 400
            assert r.json()["error"] == "Please query /accounts first"
        warm(c)
        assert c.get("/iserver/marketdata/snapshot", params={"conids": AAPL}).status_code == 200


def test_portfolio_accounts_also_satisfies_warmup(sim: RunningSim) -> None:
    with api(sim) as c:
        rows = c.get("/portfolio/accounts").json()
        assert rows[0]["accountId"] == "DU1234567" and rows[0]["faclient"] is False
        assert c.get("/iserver/marketdata/snapshot", params={"conids": AAPL}).status_code == 200


def test_snapshot_preflight_then_accumulated_fields(sim: RunningSim) -> None:
    spy = sim.sim_state.universe.by_symbol("SPY")[0].conid
    with api(sim) as c:
        warm(c)
        params = {"conids": f"{AAPL},{spy}", "fields": MSFT_FIELDS}
        first = c.get("/iserver/marketdata/snapshot", params=params).json()
        assert first == [{"conid": AAPL, "conidEx": str(AAPL)},
                         {"conid": spy, "conidEx": str(spy)}]
        second = c.get("/iserver/marketdata/snapshot", params=params).json()
        assert [row["conid"] for row in second] == [AAPL, spy]
        for row in second:
            assert isinstance(row["31"], str) and isinstance(row["_updated"], int)
            assert Decimal(row["84"]) < Decimal(row["86"])
        third = c.get("/iserver/marketdata/snapshot",
                      params={"conids": str(AAPL), "fields": "55,7295"}).json()[0]
        assert third["55"] == "AAPL" and "31" in third and "7295" in third


def test_new_brokerage_session_needs_preflight_again(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        params = {"conids": str(AAPL), "fields": "31"}
        c.get("/iserver/marketdata/snapshot", params=params)
        assert "31" in c.get("/iserver/marketdata/snapshot", params=params).json()[0]
        sim.fault("expire_session")
        c.post("/iserver/reauthenticate")
        warm(c)
        assert c.get("/iserver/marketdata/snapshot", params=params).json()[0] == {
            "conid": AAPL, "conidEx": str(AAPL)}


def test_snapshot_shows_pinned_price(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="190.00", bid="189.98", ask="190.02")
    with api(sim) as c:
        warm(c)
        params = {"conids": str(AAPL), "fields": "31,84,86"}
        c.get("/iserver/marketdata/snapshot", params=params)
        row = c.get("/iserver/marketdata/snapshot", params=params).json()[0]
    assert (row["31"], row["84"], row["86"]) == ("190.00", "189.98", "190.02")


def test_unentitled_conid_has_no_data(sim: RunningSim) -> None:
    sim.control("POST", "/sim/market", {"symbol": "AAPL", "entitled": False})
    with api(sim) as c:
        warm(c)
        params = {"conids": str(AAPL), "fields": "31,84"}
        c.get("/iserver/marketdata/snapshot", params=params)
        row = c.get("/iserver/marketdata/snapshot", params=params).json()[0]
    assert row["31"] == "N/A" and "84" not in row


def test_snapshot_bad_input(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        for params in ({}, {"conids": "abc"}, {"conids": "265598", "fields": "31,x"}):
            r = c.get("/iserver/marketdata/snapshot", params=params)
            assert r.status_code == 400 and "error" in r.json(), params
