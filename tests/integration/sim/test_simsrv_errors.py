"""Bad input gets IBKR's error shape (cpapi.md §9), never a traceback; contracts' quirks."""

from __future__ import annotations

import socket
import ssl

import pytest
from simsrv_helpers import AAPL, ACCT, api, warm

from sim_fixtures import RunningSim

ORDERS = f"/iserver/account/{ACCT}/orders"


def test_unknown_route_is_gateway_404_html(sim: RunningSim) -> None:
    with sim.client() as c:
        for path in ("/v1/api/nope", "/v1/api/reauthenticate", "/whatever", "/v1/api/tickle/x"):
            r = c.post(path) if path.endswith("reauthenticate") else c.get(path)
            assert r.status_code == 404, path
            assert r.headers["content-type"].startswith("text/html")
            assert r.text == "<html><body><h1>Resource not found</h1></body></html>"


def test_wrong_method_is_404_too(sim: RunningSim) -> None:
    with api(sim) as c:
        assert c.delete("/iserver/accounts").status_code == 404


def test_gateway_headers(sim: RunningSim) -> None:
    with api(sim) as c:
        r = c.get("/iserver/auth/status")
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["cache-control"] == "max-age=0, no-cache, no-store"
    assert r.headers["x-response-time"].endswith("ms")


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ("{not json", 400, "Failed to parse body as JSON"),
        ('{"orders": [{"conid": 265598, "side": "BUY", "orderType": "MKT", "quantity": NaN, '
         '"tif": "DAY"}]}', 400, "Failed to parse body as JSON"),
        ('{"orders": {}}', 400, "orders"),
        ('{"orders": [{"conid": 265598, "side": "HOLD", "orderType": "MKT", "quantity": 1, '
         '"tif": "DAY"}]}', 400, "Invalid Side (must be 'BUY' or 'SELL')."),
        ('{"orders": [{"conid": 265598, "side": "BUY", "orderType": "FOO", "quantity": 1, '
         '"tif": "DAY"}]}', 400, "Unknown order type"),
        ('{"orders": [{"side": "BUY", "orderType": "MKT", "quantity": 1, "tif": "DAY"}]}',
         400, "conid or conidex is required"),
        ('{"orders": [{"conid": 265598, "side": "BUY", "orderType": "MKT", "quantity": "1", '
         '"tif": "DAY"}]}', 400, "incorrect type"),
        ('{"orders": [{"conid": 265598, "side": "BUY", "orderType": "MKT", "quantity": 1}]}',
         200, "null time in force is not supported for this order"),
        ('{"orders": [{"conid": 265598, "side": "BUY", "orderType": "LMT", "quantity": 1, '
         '"tif": "DAY"}]}', 200, "Invalid order price fields"),
        ('{"orders": [{"conid": 265598, "side": "BUY", "orderType": "LMT", "quantity": 0, '
         '"price": 1, "tif": "DAY"}]}', 200, ""),
        ('{"orders": [{"conid": 1, "side": "BUY", "orderType": "MKT", "quantity": 1, '
         '"tif": "DAY"}]}', 200, ""),
    ],
)
def test_bad_orders_get_ibkr_errors_and_change_nothing(
    sim: RunningSim, body: str, status: int, needle: str
) -> None:
    with api(sim) as c:
        warm(c)
        c.post("/iserver/questions/suppress", json={"messageIds": ["o10151", "o163", "o10153"]})
        r = c.post(ORDERS, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert needle in r.json()["error"]
    assert sim.state()["orders"] == []


def test_post_without_content_length_is_411(sim: RunningSim) -> None:
    assert sim.ca_file is not None
    ctx = ssl.create_default_context(cafile=str(sim.ca_file))
    port = int(sim.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"POST /v1/api/tickle HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Connection: close\r\n\r\n")
        head = tls.recv(200)
    assert head.startswith(b"HTTP/1.1 411")


def test_bad_ids_and_pages(sim: RunningSim) -> None:
    with api(sim) as c:
        warm(c)
        for path in ("/iserver/account/order/status/abc", f"/portfolio/{ACCT}/positions/-1",
                     f"/portfolio/{ACCT}/positions/x", "/iserver/contract/abc/info",
                     "/iserver/account/trades?days=9", "/iserver/account/orders?filters=bogus"):
            r = c.get(path)
            assert r.status_code == 400 and isinstance(r.json()["error"], str), path
        r = c.get("/portfolio/U999/summary")
        assert r.status_code == 400 and "U999" in r.json()["error"]
        r = c.post("/iserver/reply/x", json={"confirmed": "yes"})
        assert r.status_code == 400


def test_unknown_conid_info_is_500_with_nested_json(sim: RunningSim) -> None:
    with api(sim) as c:
        r = c.get("/iserver/contract/1/info")
    assert r.status_code == 500
    assert r.json()["error"].startswith('{"reason":"Details currently unavailable.')


def test_contract_lookups_and_type_quirks(sim: RunningSim) -> None:
    with api(sim) as c:
        found = c.get("/iserver/secdef/search", params={"symbol": "AAPL"}).json()
        assert found[0]["conid"] == str(AAPL) and found[0]["symbol"] == "AAPL"
        posted = c.post("/iserver/secdef/search", json={"symbol": "aapl"}).json()
        assert posted[0]["conid"] == str(AAPL)
        assert c.get("/iserver/secdef/search", params={"symbol": "ZZZZZZZ"}).json() == []
        info = c.get(f"/iserver/contract/{AAPL}/info").json()
        assert info["con_id"] == AAPL and info["instrument_type"] == "STK"
        stocks = c.get("/trsrv/stocks", params={"symbols": "AAPL,BRK.B"}).json()
        assert stocks["AAPL"][0]["contracts"][0] == {"conid": AAPL, "exchange": "NASDAQ",
                                                     "isUS": True}
        assert stocks["BRK.B"]
        by_get = c.get("/trsrv/secdef", params={"conids": str(AAPL)}).json()
        by_post = c.post("/trsrv/secdef", json={"conids": [AAPL]}).json()
        assert by_get == by_post and by_get["secdef"][0]["ticker"] == "AAPL"
        assert c.get("/iserver/secdef/search").status_code == 400
        assert c.get("/trsrv/stocks").status_code == 400
