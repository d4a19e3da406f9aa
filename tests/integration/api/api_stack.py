"""The API over the real service and the simulator, on either backend (shared by tests)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from api_server import serve_in_thread

from catalyst_ibkr.api import create_app
from catalyst_ibkr.api.runtime import RuntimeOptions, service_stack
from catalyst_ibkr.config.loader import load_settings
from sim_fixtures import RunningSim

#: Start simulators for the Client Portal backend with this (the client follows it).
SIM_TIME_SCALE = 50.0


@dataclass
class Stack:
    url: str
    client: httpx.Client
    sim: RunningSim

    def orders_at_sim(self, coid: str | None = None) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self.sim.state()["orders"]
        return [o for o in orders if coid is None or o["cOID"] == coid]

    def wait_status(self, signal_id: str, wanted: set[str], timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        view: dict[str, Any] = {}
        while time.monotonic() < deadline:
            view = self.client.get(f"/v1/signals/{signal_id}").json()
            if view.get("status") in wanted:
                return view
            time.sleep(0.05)
        raise AssertionError(f"{signal_id} stayed {view.get('status')}: {view}")


@contextmanager
def start_stack(sim: RunningSim, tmp_path: Path, backend: str,
                env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The service on either backend: the simulator's TWS view (start the sim with
    tws_port=0) or its Client Portal API (HTTPS verified against the simulator's
    certificate). `env`: extra CATALYST_* settings. The client's [pacing] time_scale is
    the simulator's (start it with time_scale=SIM_TIME_SCALE): both sides must agree on
    IBKR's windows, or the websocket heartbeat looks late and the client keeps
    reconnecting."""
    for symbol, bid, ask in (("AAPL", "190.00", "190.05"), ("MSFT", "415.00", "415.10")):
        sim.set_market(symbol, bid=bid, ask=ask, last=ask)
    extra = dict(env or {})
    if backend == "tws":
        settings = load_settings(None, extra).settings
        gateway = f"tws://127.0.0.1:{sim.tws_port}"
    else:
        extra.update({"CATALYST_GATEWAY_CA_FILE": str(sim.ca_file),
                      "CATALYST_PACING_TIME_SCALE": str(sim.options.time_scale),
                      "CATALYST_PACING_STATE_DIR": str(tmp_path / "pacing")})
        settings = load_settings(None, extra).settings
        gateway = sim.base_url
    runtime = RuntimeOptions(db_url=f"sqlite:///{tmp_path}/journal.db", gateway_url=gateway)
    app = create_app(lambda: service_stack(settings, runtime))
    with serve_in_thread(app, timeout=30) as url, httpx.Client(base_url=url, timeout=30) as c:
        ready = time.monotonic() + 20
        while c.get("/v1/health", params={"ready": 1}).status_code != 200:
            assert time.monotonic() < ready, c.get("/v1/health", params={"ready": 1}).text
            time.sleep(0.05)
        yield Stack(url, c, sim)


# -- helpers shared by the API fault tests and the reliability matrix ------------------------

ORDER_POST = r"/iserver/account/[^/]+/orders$"
SETTLED = {"FILLED", "REJECTED", "CANCELLED", "EXPIRED", "DENIED"}


def post_signal(stack: Stack, sid: str, quantity: str = "1", symbol: str = "AAPL") -> None:
    body = {"id": sid, "symbol": symbol, "side": "BUY", "quantity": quantity,
            "order_type": "MKT"}
    response = stack.client.post("/v1/signals", json=body)
    assert response.status_code == 202, response.text


def settle(stack: Stack, ids: list[str], timeout: float = 90) -> dict[str, dict[str, Any]]:
    """Every signal's view once all are settled (generous deadline: a loaded 2-core box)."""
    deadline = time.monotonic() + timeout
    views: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        views = {i: stack.client.get(f"/v1/signals/{i}").json() for i in ids}
        if all(v["status"] in SETTLED for v in views.values()):
            return views
        time.sleep(0.1)
    raise AssertionError({i: v["status"] for i, v in views.items()})


def one_order_per_coid(stack: Stack) -> Counter[str]:
    per_coid = Counter(o["cOID"] for o in stack.orders_at_sim())
    assert not per_coid or max(per_coid.values()) == 1, per_coid
    return per_coid
