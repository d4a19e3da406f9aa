"""The paper/live interlock in the real service: the simulator's gateway is logged into
DU1234567, the configuration names another account, so the first account the broker
reports trips the interlock and a signal is refused without any order at the simulator.
Over real sockets: httpx -> uvicorn -> service -> ib_async -> ibkr_sim (TWS view)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from catalyst_ibkr.api import create_app
from catalyst_ibkr.api.runtime import RuntimeOptions, service_stack
from catalyst_ibkr.config.loader import load_settings
from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(120)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on",
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.02)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_gateway_account_other_than_the_configured_one_refuses_trading(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory(tws_port=0)
    sim.set_market("AAPL", bid="190.00", ask="190.05", last="190.05")
    settings = load_settings(None, {"CATALYST_GATEWAY_ACCOUNT": "DU7777777"}).settings
    runtime = RuntimeOptions(db_url=f"sqlite:///{tmp_path}/journal.db",
                             gateway_url=f"tws://127.0.0.1:{sim.tws_port}")
    app = create_app(lambda: service_stack(settings, runtime))
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        # checked at start, with the account the gateway reports
        ops = client.get("/v1/watchdog").json()
        assert ops["interlock"]["tripped"], ops
        assert "DU1234567" in ops["interlock"]["problem"]
        assert "DU7777777" in ops["interlock"]["problem"]
        r = client.post("/v1/signals", json={"id": "il-1", "symbol": "AAPL", "side": "BUY",
                                             "quantity": "1", "order_type": "MKT", "ttl_s": 2})
        assert r.status_code == 202
        deadline = time.monotonic() + 30
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = client.get("/v1/signals/il-1").json()
            if status["status"] in ("REJECTED", "DENIED", "FILLED", "EXPIRED"):
                break
            time.sleep(0.1)
        # held (the broker session reads as unusable while tripped), then never sent late
        assert status["status"] in ("EXPIRED", "REJECTED"), status
        if status["status"] == "REJECTED":
            assert status["reason"].startswith("paper/live interlock:")
        risk = client.get("/v1/risk").json()
        assert any("paper/live interlock" in reason for reason in risk["hold_reasons"]), risk
        assert sim.state()["orders"] == []  # nothing reached the broker
        ops = client.get("/v1/watchdog").json()
        alerts = [a for a in ops["alerts"] if a["key"] == "interlock"]
        assert len(alerts) == 1
