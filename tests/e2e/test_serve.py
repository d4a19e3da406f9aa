"""`catalyst-ibkr serve --sim` as a real process: defaults printed, signals filled, `kill`
through the admin API, `--dry-run` sends nothing, SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CLI = str(Path(sys.executable).parent / "catalyst-ibkr")
API_KEY = "e2e-api-key-" + "x" * 32
ADMIN_KEY = "e2e-admin-key-" + "y" * 32

pytestmark = pytest.mark.timeout(180)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALYST_", "IBEAM_"))}
    env.update(CATALYST_API_KEY=API_KEY, CATALYST_ADMIN_KEY=ADMIN_KEY)
    return env


@contextmanager
def serving(tmp_path: Path, *extra: str) -> Iterator[tuple[str, list[str]]]:
    process = subprocess.Popen(
        [CLI, "serve", "--sim", "--port", "0", "--db", f"sqlite:///{tmp_path}/j.db", *extra],
        cwd=tmp_path, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")),
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", "".join(lines))
            url = found.group(1) if found else None
            time.sleep(0.05)
        yield url, lines
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(5)
        process.stderr.close()
    assert code == 0, "".join(lines)
    assert "Traceback" not in "".join(lines)


def _wait(client: httpx.Client, sid: str, wanted: set[str]) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        view: dict[str, object] = client.get(f"/v1/signals/{sid}").json()
        if view.get("status") in wanted or time.monotonic() > deadline:
            return view
        time.sleep(0.1)


def test_serve_sim_trades_and_kill_halts(tmp_path: Path) -> None:
    with serving(tmp_path) as (url, lines), httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    ) as client:
        text = "".join(lines)
        assert "no config file: using the conservative defaults" in text
        assert "[risk] max_order_quantity = 1000" in text and "(migrated)" in text
        assert API_KEY not in text and ADMIN_KEY not in text
        assert httpx.get(f"{url}/v1/orders").status_code == 401
        body = {"id": "e2e-1", "symbol": "AAPL", "side": "BUY", "quantity": "3",
                "order_type": "MKT"}
        assert client.post("/v1/signals", json=body).status_code == 202
        assert _wait(client, "e2e-1", {"FILLED"})["status"] == "FILLED"
        rest = {"id": "e2e-2", "symbol": "AAPL", "side": "BUY", "quantity": "1",
                "order_type": "LMT", "limit_price": "1.00"}
        assert client.post("/v1/signals", json=rest).status_code == 202
        assert _wait(client, "e2e-2", {"SUBMITTED"})["status"] == "SUBMITTED"

        kill = subprocess.run([CLI, "--json", "kill", "--yes", "--service", url],
                              capture_output=True, text=True, timeout=120, env=_env(),
                              cwd=tmp_path, stdin=subprocess.DEVNULL)
        assert kill.returncode == 0, kill.stdout + kill.stderr
        assert '"verified": true' in kill.stdout
        assert _wait(client, "e2e-2", {"CANCELLED"})["status"] == "CANCELLED"
        assert client.get("/v1/risk").json()["trading_state"] == "HALTED"


@pytest.mark.parametrize("backend", ["webapi", "tws"])
def test_serve_sim_places_one_signal_on_each_backend(tmp_path: Path, backend: str) -> None:
    """The default is the Web API over HTTPS (the simulator's own certificate, IBKR pacing);
    `--sim-backend tws` the socket view; either way one signal makes exactly one order."""
    extra = () if backend == "webapi" else ("--sim-backend", "tws")
    with serving(tmp_path, *extra) as (url, lines), httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    ) as client:
        text = "".join(lines)
        found = re.search(r"simulator in this process: (https://127\.0\.0\.1:\d+); "
                          r"trading through (.*)", text)
        assert found is not None, text
        sim_url, via = found.groups()
        if backend == "webapi":
            cert = re.search(r"verified against its certificate (\S+),", via)
            assert cert is not None and "IBKR pacing on" in via, via
            ca_file = cert.group(1)
        else:
            assert "TWS socket view" in via, via
            ca_file = str(Path("~/.cache/catalyst-ibkr/sim/sim-cert.pem").expanduser())
        body = {"id": f"one-{backend}", "symbol": "MSFT", "side": "BUY", "quantity": "2",
                "order_type": "MKT"}
        assert client.post("/v1/signals", json=body).status_code == 202
        view = _wait(client, f"one-{backend}", {"FILLED"})
        assert view["status"] == "FILLED", view
        trust = ssl.create_default_context(cafile=ca_file)
        state = httpx.get(f"{sim_url}/sim/state", verify=trust, timeout=30).json()
        mine = [o for o in state["orders"] if o["cOID"] == view["client_order_id"]]
        assert len(mine) == 1 and mine[0]["status"] == "Filled", state["orders"]
        assert state["stats"]["rate_limited_total"] == 0


def test_serve_dry_run_sends_nothing(tmp_path: Path) -> None:
    with serving(tmp_path, "--dry-run") as (url, lines), httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    ) as client:
        assert "dry run" in "".join(lines)
        body = {"id": "dry-1", "symbol": "AAPL", "side": "BUY", "quantity": "3",
                "order_type": "MKT"}
        assert client.post("/v1/signals", json=body).status_code == 202
        view = _wait(client, "dry-1", {"REJECTED", "FILLED", "SUBMITTED"})
        assert view["status"] == "REJECTED" and "dry run" in str(view.get("reason"))
        assert view.get("broker_order_id") is None
