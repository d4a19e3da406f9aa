"""The dashboard in a real chromium, over the real service trading against the simulator.

Real sockets end to end: chromium -> uvicorn -> ExecutionService -> ib_async -> ibkr_sim's
TWS view. ``serve`` has no Client Portal Broker adapter yet (it refuses https gateways), so
the service trades through the simulator's TWS view; to show pacing headroom, a Web API
stack against the same simulator (HTTPS) lends the dashboard its real pacing governor after
a few real requests. The fill on the page is one the simulator produced for a signal posted
through the API; the denial is the service's own risk refusal; the kill switch is pressed
with the admin key typed into the page.

Set ``CATALYST_DASHBOARD_SCREENSHOT=docs/img/dashboard.png`` to refresh the README image.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from catalyst_ibkr.adapters.webapi.stack import PacingSettings, open_stack
from catalyst_ibkr.adapters.webapi.tls import TlsSettings
from catalyst_ibkr.api import create_app
from catalyst_ibkr.api.auth import ApiKeys
from catalyst_ibkr.api.runtime import RuntimeOptions, service_stack
from catalyst_ibkr.config.loader import load_settings
from catalyst_ibkr.service.watchdog.runtime import ops_for
from sim_fixtures import RunningSim

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
).expect

API_KEY = "dash-api-key-0123456789abcdef"
ADMIN_KEY = "dash-admin-key-0123456789abcdef"


@contextmanager
def serve(app: Any) -> Iterator[tuple[str, uvicorn.Server]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on",
                            log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-dashboard", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(30)


def lend_pacing_governor(app: Any, sim: RunningSim, tmp_path: Path, held: list[Any]) -> None:
    """Open a Web API stack on the sim, make real requests, hand its governor to the page.

    The stack lives on its own event loop in a thread (Playwright's sync API owns the main
    thread's loop).
    """

    async def build() -> Any:
        stack = open_stack(
            sim.base_url,
            tls=TlsSettings(ca_file=sim.ca_file),
            pacing=PacingSettings(time_scale=1.0, state_dir=tmp_path, shared=False),
        )
        await stack.client.tickle()
        await stack.client.iserver_accounts()
        await stack.client.portfolio_accounts()
        return stack

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="webapi-stack", daemon=True)
    thread.start()
    stack = asyncio.run_coroutine_threadsafe(build(), loop).result(30)
    held.extend([loop, thread, stack])
    ops = ops_for(app.state.service)
    assert ops is not None, "serve did not start the operations runtime"
    ops.governor = stack.governor


def release(held: list[Any]) -> None:
    if not held:
        return
    loop, thread, stack = held
    asyncio.run_coroutine_threadsafe(stack.aclose(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def served(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> Iterator[tuple[str, httpx.Client, RunningSim, Any]]:
    sim = sim_factory(tws_port=0)
    sim.set_market("AAPL", bid="190.00", ask="190.05", last="190.05")
    env = {"CATALYST_API_KEY": API_KEY, "CATALYST_ADMIN_KEY": ADMIN_KEY}
    settings = load_settings(None, env).settings
    runtime = RuntimeOptions(db_url=f"sqlite:///{tmp_path}/journal.db",
                             gateway_url=f"tws://127.0.0.1:{sim.tws_port}")
    app = create_app(lambda: service_stack(settings, runtime),
                     keys=ApiKeys(api_key=API_KEY, admin_key=ADMIN_KEY))
    held: list[Any] = []
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with serve(app) as (url, _server), httpx.Client(base_url=url, headers=headers,
                                                    timeout=30) as client:
        deadline = time.monotonic() + 30
        while client.get("/v1/health", params={"ready": 1}).status_code != 200:
            assert time.monotonic() < deadline, client.get("/v1/health?ready=1").text
            time.sleep(0.05)
        lend_pacing_governor(app, sim, tmp_path, held)
        try:
            yield url, client, sim, app
        finally:
            release(held)


def wait_signal(client: httpx.Client, sid: str, wanted: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = client.get(f"/v1/signals/{sid}").json()
        if view.get("status") in wanted:
            return view
        time.sleep(0.05)
    raise AssertionError(f"{sid} stayed {view.get('status')}")


def test_dashboard_shows_a_simulator_fill_live_and_the_kill_switch_works(
    chromium: Any, served: tuple[str, httpx.Client, RunningSim, Any]
) -> None:
    url, client, sim, _app = served
    context = chromium.new_context(viewport={"width": 1400, "height": 1250})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(url) else external.append(r.url))
    try:
        page.goto(url + "/")
        # the service has keys: the page asks for the API key once
        page.wait_for_selector("#key-dialog[open]")
        page.fill("#key-input", API_KEY)
        page.click("#key-ok")
        page.wait_for_selector("#live.ok", timeout=15_000)
        assert page.text_content("#mode") == "PAPER"
        expect(page.locator("#gw-phase")).to_have_text("healthy", timeout=15_000)
        assert page.text_content("#tr-state") == "ACTIVE"

        # a fill the simulator produces appears without reloading (over /v1/events)
        r = client.post("/v1/signals", json={"id": "dash-1", "symbol": "AAPL", "side": "BUY",
                                             "quantity": "10", "order_type": "MKT"})
        assert r.status_code == 202
        view = wait_signal(client, "dash-1", {"FILLED"})
        fill_price = view["fills"][0]["price"]
        expect(page.locator("#fill-rows")).to_contain_text("AAPL", timeout=30_000)
        fills_text = page.text_content("#fill-rows") or ""
        assert "BUY" in fills_text and "10" in fills_text and fill_price in fills_text
        sim_orders = [o for o in sim.state()["orders"] if o["cOID"] == view["client_order_id"]]
        assert len(sim_orders) == 1 and sim_orders[0]["status"] == "Filled"
        expect(page.locator("#positions")).to_contain_text("AAPL", timeout=30_000)

        # a risk denial shows up under recent denials
        r = client.post("/v1/signals", json={"id": "dash-big", "symbol": "AAPL", "side": "BUY",
                                             "quantity": "999999", "order_type": "MKT"})
        assert r.status_code == 202
        denied = wait_signal(client, "dash-big", {"DENIED"})
        expect(page.locator("#denial-rows")).to_contain_text("dash-big", timeout=30_000)
        assert denied["reason_code"] in (page.text_content("#denial-rows") or "")

        # a working order is listed (a passive limit far from the market)
        r = client.post("/v1/signals", json={"id": "dash-lmt", "symbol": "AAPL", "side": "BUY",
                                             "quantity": "5", "order_type": "LMT",
                                             "limit_price": "150.00", "ttl_s": 600})
        wait_signal(client, "dash-lmt", {"SUBMITTED"})
        expect(page.locator("#working")).to_contain_text("150", timeout=30_000)

        # pacing headroom per endpoint scope (the Web API governor after real requests)
        expect(page.locator("#pacing-rows")).to_contain_text("portfolio/accounts", timeout=30_000)
        shot = os.environ.get("CATALYST_DASHBOARD_SCREENSHOT")
        if shot:
            page.screenshot(path=shot, full_page=True)

        # the kill switch asks for the admin key, halts and verifies
        page.click("#kill")
        page.wait_for_selector("#key-dialog[open]")
        assert "admin" in (page.text_content("#key-title") or "").lower()
        page.fill("#key-input", ADMIN_KEY)
        page.click("#key-ok")
        expect(page.locator("#tr-result")).to_contain_text("Kill switch: HALTED", timeout=30_000)
        expect(page.locator("#tr-state")).to_have_text("HALTED", timeout=30_000)
        assert client.get("/v1/risk").json()["trading_state"] == "HALTED"
        working = [o for o in sim.state()["orders"] if o["status"] in ("Submitted", "PreSubmitted")]
        assert working == []
    finally:
        context.close()
    assert errors == [], errors
    assert external == [], f"the page reached outside the service: {external}"


def test_dashboard_files_are_served_from_the_package_with_a_strict_csp(
    served: tuple[str, httpx.Client, RunningSim, Any],
) -> None:
    url, client, _sim, _app = served
    with httpx.Client(base_url=url) as anonymous:
        page = anonymous.get("/")
        assert page.status_code == 200 and 'src="/dashboard/app.js"' in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "http://" not in page.text.replace(url, "") and "https://" not in page.text
        assert anonymous.get("/dashboard/app.js").status_code == 200
        assert anonymous.get("/dashboard/../routes.py").status_code == 404
        assert anonymous.get("/v1/watchdog").status_code == 401  # reads need the key
    ops = client.get("/v1/watchdog").json()
    assert ops["mode"] == "paper" and ops["interlock"]["tripped"] is False
    assert ops["watchdog"]["phase"] == "healthy"
    scopes = {row["scope"] for row in ops["pacing"]}
    assert {"global", "portfolio/accounts"} <= scopes
