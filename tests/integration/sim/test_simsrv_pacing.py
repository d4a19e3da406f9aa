"""Pacing over real HTTPS: sliding window counted on arrival, 429, penalty box, stats.

The clock runs at 1/100 speed here, so one IBKR second lasts 100 real seconds and no window
can slip by while the test runs; windows are crossed with ``POST /sim/clock``.
"""

from __future__ import annotations

import pytest
from simsrv_helpers import api

from sim_fixtures import RunningSim

SLOW = {"pacing": True, "penalty_s": 60.0, "time_scale": 0.01}


@pytest.mark.sim_options(**SLOW)
def test_global_limit_429_then_penalty_box_and_stats(sim: RunningSim) -> None:
    with api(sim) as c:
        codes = [c.get("/iserver/auth/status").status_code for _ in range(10)]
        assert codes == [200] * 10
        assert c.get("/iserver/auth/status").status_code == 429
        sim.advance(1.5)  # the window has passed, but the penalty box has not
        r = c.get("/trsrv/stocks", params={"symbols": "AAPL"})
        assert r.status_code == 429 and "error" in r.json()
        stats = sim.state()["stats"]
        assert stats["requests_total"] == 12
        assert stats["rate_limited_total"] == 2 and stats["penalty_box_total"] == 1
        assert stats["by_client"]["127.0.0.1"]["rate_limited_total"] == 2
        sim.advance(60)
        assert c.get("/iserver/auth/status").status_code == 200


@pytest.mark.sim_options(**SLOW)
def test_endpoint_window_portfolio_accounts_one_per_5s(sim: RunningSim) -> None:
    with api(sim) as c:
        assert c.get("/portfolio/accounts").status_code == 200
        sim.advance(4)
        assert c.get("/portfolio/accounts").status_code == 429


@pytest.mark.sim_options(**SLOW)
def test_sliding_window_allows_after_window(sim: RunningSim) -> None:
    with api(sim) as c:
        assert c.post("/tickle").status_code == 200
        sim.advance(1.2)
        assert c.post("/tickle").status_code == 200
        sim.advance(1.2)
        assert c.get("/portfolio/accounts").status_code == 200
        sim.advance(5.5)
        assert c.get("/portfolio/accounts").status_code == 200
    assert sim.state()["stats"]["rate_limited_total"] == 0


@pytest.mark.sim_options(**SLOW)
def test_rejected_requests_count_toward_the_window(sim: RunningSim) -> None:
    with api(sim) as c:
        c.post("/tickle")
        assert c.post("/tickle").status_code == 429


@pytest.mark.sim_options(**SLOW)
def test_control_api_is_never_paced_or_counted(sim: RunningSim) -> None:
    with api(sim) as c:
        for _ in range(11):
            c.get("/iserver/auth/status")
    for _ in range(15):
        state = sim.state()  # raises on any non-2xx
    assert state["stats"]["requests_total"] == 11


def test_no_pacing_never_429(sim: RunningSim) -> None:
    with api(sim) as c:
        codes = {c.post("/tickle").status_code for _ in range(25)}
    assert codes == {200}
    assert sim.state()["stats"]["rate_limited_total"] == 0
