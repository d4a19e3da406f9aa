"""Session behaviour over real HTTPS: start state, tickle, expiry, competing, daily reset,
restart, logout, and the 401 gate on /iserver."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from simsrv_helpers import api, warm

from sim_fixtures import RunningSim

NOT_AUTH = {"error": "not authenticated", "statusCode": 401}


def test_starts_authenticated_like_ibeam_left_it(sim: RunningSim) -> None:
    with api(sim) as c:
        for method in ("GET", "POST"):
            body = c.request(method, "/iserver/auth/status").json()
            assert body["authenticated"] is True and body["connected"] is True
            assert body["competing"] is False and body["established"] is True
            assert "serverVersion" in body["serverInfo"]
        accounts = c.get("/iserver/accounts").json()
        assert accounts["accounts"] == ["DU1234567"] and accounts["isPaper"] is True


def test_tickle_gives_session_and_cookie(sim: RunningSim) -> None:
    with api(sim) as c:
        r = c.post("/tickle")
        body = r.json()
        assert re.fullmatch(r"[0-9a-f]{32}", body["session"])
        assert isinstance(body["ssoExpires"], int) and body["ssoExpires"] > 0
        assert body["collission"] is False
        assert body["iserver"]["authStatus"]["authenticated"] is True
        cookie = r.headers["set-cookie"]
        assert f"x-sess-uuid={body['session']}" in cookie and "Path=/v1/api" in cookie
        assert c.get("/tickle").json()["session"] == body["session"]


def test_sso_validate_reports_paper_login_also_under_portal_prefix(sim: RunningSim) -> None:
    with api(sim) as c:
        body = c.get("/sso/validate").json()
    assert body["RESULT"] is True and body["LOGIN_TYPE"] == 2
    with sim.client() as c:
        assert c.get("/v1/portal/sso/validate").json()["LOGIN_TYPE"] == 2


def test_idle_expiry_then_reauthenticate_via_portal_path(sim: RunningSim) -> None:
    with api(sim) as c:
        sim.advance(300)
        assert c.post("/tickle").status_code == 200  # activity keeps it alive
        sim.advance(300)
        assert c.get("/iserver/auth/status").json()["authenticated"] is True
        sim.advance(361)
        status = c.get("/iserver/auth/status").json()
        assert status["authenticated"] is False and status["connected"] is True
        r = c.get("/iserver/accounts")
        assert r.status_code == 401 and r.json() == NOT_AUTH
    with sim.client() as c:
        r = c.post("/v1/portal/iserver/reauthenticate", params={"force": "true"})
        assert r.json() == {"message": "triggered"}
        assert c.get("/v1/api/iserver/auth/status").json()["authenticated"] is True


def test_expire_session_fault_then_ssodh_init(sim: RunningSim) -> None:
    sim.fault("expire_session")
    with api(sim) as c:
        assert c.get("/iserver/auth/status").json()["authenticated"] is False
        body = c.post("/iserver/auth/ssodh/init", json={"publish": True, "compete": True}).json()
        assert body["authenticated"] is True
        assert c.get("/iserver/accounts").status_code == 200


def test_competing_session_then_loses_auth_and_competes_back(sim: RunningSim) -> None:
    sim.fault("competing_session")
    with api(sim) as c:
        status = c.get("/iserver/auth/status").json()
        assert status["competing"] is True and status["authenticated"] is True
        assert c.post("/tickle").json()["collission"] is True
        sim.advance(sim.options.competing_grace_s + 1)
        assert c.get("/iserver/auth/status").json()["authenticated"] is False
        assert c.get("/iserver/accounts").json() == NOT_AUTH
        body = c.post("/iserver/auth/ssodh/init", json={"publish": True, "compete": True}).json()
        assert body["authenticated"] is True and body["competing"] is False


def test_daily_reset_injected_needs_reauth_and_new_warmup(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        before = c.post("/tickle").json()["session"]
        sim.fault("daily_reset")
        assert c.get("/iserver/auth/status").json()["authenticated"] is False
        assert c.get("/iserver/marketdata/snapshot", params={"conids": "265598"}).status_code == 401
        assert c.post("/iserver/reauthenticate").json() == {"message": "triggered"}
        assert c.post("/tickle").json()["session"] != before
        r = c.get("/iserver/marketdata/snapshot", params={"conids": "265598"})
        assert r.status_code == 400 and r.json()["error"] == "Please query /accounts first"


def test_scheduled_daily_reset(sim_factory) -> None:  # type: ignore[no-untyped-def]
    at = (datetime.now(UTC) + timedelta(minutes=2)).time().replace(second=0, microsecond=0)
    sim = sim_factory(daily_reset=at)
    with api(sim) as c:
        assert c.get("/iserver/auth/status").json()["authenticated"] is True
        sim.advance(240)
        assert c.get("/iserver/auth/status").json()["authenticated"] is False


def test_restart_loses_sessions_keeps_orders_and_relogs(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        c.post("/iserver/questions/suppress", json={"messageIds": ["o10151"]})
        r = c.post("/iserver/account/DU1234567/orders", json={"orders": [
            {"conid": 265598, "side": "BUY", "orderType": "MKT", "quantity": 1, "tif": "DAY"}]})
        assert "order_id" in r.json()[0]
        old = c.post("/tickle").json()["session"]
        sim.fault("restart", relogin_s=5)
        assert c.get("/iserver/auth/status").json() == {
            "authenticated": False, "established": False, "competing": False,
            "connected": False, "MAC": None}
        r = c.post("/tickle")
        assert r.status_code == 401 and r.json() == {"error": "no session"}
        assert c.get("/iserver/accounts").json() == NOT_AUTH
        assert c.get("/portfolio/accounts").status_code == 401
        sim.advance(6)
        assert c.get("/iserver/auth/status").json()["authenticated"] is True
        assert c.post("/tickle").json()["session"] != old
    assert len(sim.state()["orders"]) == 1


def test_logout_then_ibeam_logs_in_again(sim: RunningSim) -> None:
    with api(sim) as c:
        assert c.post("/logout").json() == {"status": True}
        assert c.get("/iserver/auth/status").json()["connected"] is False
        assert c.post("/iserver/reauthenticate").status_code == 401
        sim.advance(sim.options.relogin_s + 1)
        assert c.get("/iserver/auth/status").json()["authenticated"] is True


def test_401_only_on_iserver_when_brokerage_session_is_gone(sim: RunningSim) -> None:
    sim.fault("expire_session")
    with api(sim) as c:
        for path in ("/iserver/accounts", "/iserver/secdef/search?symbol=AAPL",
                     "/iserver/account/orders", "/iserver/contract/265598/info"):
            r = c.get(path)
            assert r.status_code == 401 and r.json() == NOT_AUTH, path
        assert c.get("/trsrv/stocks", params={"symbols": "AAPL"}).status_code == 200
        assert c.get("/portfolio/accounts").status_code == 200


def test_ssodh_init_on_a_healthy_session_keeps_it(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        before = c.post("/tickle").json()["session"]
        body = c.post("/iserver/auth/ssodh/init", json={"publish": True, "compete": True}).json()
        assert body["authenticated"] is True
        assert c.post("/tickle").json()["session"] == before
        assert c.get("/iserver/marketdata/snapshot", params={"conids": "265598"}).status_code \
            == 200  # the warm-up was not forgotten
        r = c.post("/iserver/auth/ssodh/init", json={"publish": False})
        assert r.status_code == 500
