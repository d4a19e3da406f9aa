"""`catalyst-ibkr serve` started before its gateway (IB Gateway's nightly restart, IBeam
still logging in, a compose file that starts both at once): the service comes up, journals
signals, sends nothing while the gateway is away, and sends each signal exactly once after
the gateway answers. It used to exit 4 at start, which made a restart loop of a normal
start order."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from rel_helpers import ServeProcess

from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(180)

CLI = str(Path(sys.executable).parent / "catalyst-ibkr")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _status(client: httpx.Client, sid: str) -> str:
    return str(client.get(f"/v1/signals/{sid}").json()["status"])


def test_serve_waits_for_a_gateway_that_starts_later_and_then_sends_once(
    sim_factory: Callable[..., RunningSim], tmp_path: Path,
) -> None:
    # A first simulator only for its certificate: the next one, on the same state dir,
    # serves the same one, so the service can pin it before that gateway exists.
    ca_file = sim_factory().ca_file
    port = _free_port()
    gateway = SimpleNamespace(base_url=f"https://127.0.0.1:{port}", ca_file=ca_file)
    service = ServeProcess(tmp_path, gateway)
    try:
        with httpx.Client(base_url=service.url, timeout=10) as client:
            ready = client.get("/v1/health", params={"ready": "1"})
            assert ready.status_code == 503, ready.text
            assert ready.json()["startup_complete"] is False
            body: dict[str, Any] = {"id": "early-1", "symbol": "AAPL", "side": "BUY",
                                    "quantity": "1", "order_type": "LMT",
                                    "limit_price": "1.00", "ttl_s": "120"}  # passive
            accepted = client.post("/v1/signals", json=body)
            assert accepted.status_code == 202 and accepted.json()["status"] == "RECEIVED"
            time.sleep(1.5)  # a few retries of the start go by; the signal only waits
            assert _status(client, "early-1") == "RECEIVED"
            assert any("not usable yet" in line for line in service.lines), service.lines

            late = sim_factory(port=port)  # the gateway comes up
            deadline = time.monotonic() + 90
            while (status := _status(client, "early-1")) in ("RECEIVED", "PENDING_SUBMIT"):
                assert time.monotonic() < deadline, "still waiting after the gateway came up"
                time.sleep(0.1)
            assert status == "SUBMITTED", client.get("/v1/signals/early-1").text
            assert client.get("/v1/health", params={"ready": "1"}).status_code == 200
            view = client.get("/v1/signals/early-1").json()
            orders = [o for o in late.state()["orders"] if o["cOID"] == view["client_order_id"]]
            assert len(orders) == 1, orders
    finally:
        service.stop()


def test_serve_refuses_a_gateway_that_answers_without_the_configured_account(
    sim_factory: Callable[..., RunningSim], tmp_path: Path,
) -> None:
    """Waiting heals a gateway that is down, not a wrong account: that still stops the
    start, with exit 2 and the fix, before the port is served."""
    sim = sim_factory()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALYST_", "IBEAM_"))}
    env.update(CATALYST_GATEWAY_CA_FILE=str(sim.ca_file), CATALYST_GATEWAY_ACCOUNT="DU9999999")
    done = subprocess.run(
        [CLI, "serve", "--gateway", sim.base_url, "--port", "0",
         "--db", f"sqlite:///{tmp_path}/journal.db"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=90,
    )
    assert done.returncode == 2, done.stderr
    assert "DU9999999 is not on this gateway" in done.stderr
    assert "serving on" not in done.stderr and "Traceback" not in done.stderr
