"""Property: no JSON body sent to a POST endpoint makes the simulator answer 500 or crash.

Bad input must get IBKR's error shape (cpapi.md §9) and change nothing it should not.
Runs over real loopback HTTPS against one simulator for all examples.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simsrv_helpers import ACCT, api, warm

from sim_fixtures import RunningSim

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
ORDER_KEYS = ["conid", "conidex", "side", "orderType", "quantity", "price", "auxPrice", "tif",
              "outsideRTH", "cOID", "parentId", "isSingleGroup", "acctId"]
order_like = st.dictionaries(st.sampled_from(ORDER_KEYS), st.one_of(
    scalars, st.sampled_from(["BUY", "SELL", "MKT", "LMT", "STP", "STP LMT", "DAY", "IOC",
                              "265598", 265598, 1, 0, -5, "GTC"])), max_size=9)
bodies = st.one_of(json_values, st.builds(lambda o: {"orders": o}, st.lists(order_like,
                                                                           max_size=3)))
PATHS = [
    f"/v1/api/iserver/account/{ACCT}/orders",
    "/v1/api/iserver/reply/00000000-0000-0000-0000-000000000000",
    "/v1/api/iserver/questions/suppress",
    "/v1/api/iserver/secdef/search",
    "/v1/api/trsrv/secdef",
    "/v1/api/iserver/marketdata/unsubscribe",
    f"/v1/api/iserver/account/{ACCT}/order/1000000001",
    "/v1/api/iserver/account",
    "/sim/market",
    "/sim/clock",
    "/sim/faults",
]
ALLOWED_500 = ({"error": "publish must be true"}, {"error": "unknown"})


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), body=bodies)
def test_any_json_body_gets_a_clean_answer(sim: RunningSim, path: str, body: Any) -> None:
    with httpx.Client(base_url=sim.base_url, verify=sim.ssl_context(), timeout=10) as c:
        if path.startswith("/sim/clock") and isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "advance_s"}  # keep the clock sane
        if path == "/sim/faults" and isinstance(body, dict) and body.get("kind") in (
                "restart", "expire_session", "drop_after_accept", "latency", "http_error"):
            body = {"kind": "clear"}
        r = c.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
        assert r.status_code < 500 or r.json() in ALLOWED_500, (path, body, r.text)
        parsed = r.json()
        assert isinstance(parsed, list | dict)
        if r.status_code >= 400:
            assert isinstance(parsed, dict)
            assert isinstance(parsed["error"], str) and parsed["error"]
    with api(sim) as c2:
        warm(c2)  # the server is alive and the session intact after every example
