"""SIGKILL the service in the middle of a burst of signals, restart it on the same journal.

The promises checked (issue 6): no accepted signal is lost (every 202 before the kill is
still there after the restart and ends FILLED), the simulator holds at most one order per
cOID, and the positions the service reports equal the simulator's. The simulator runs in
the test process, so it outlives the service like IBeam's gateway would; the service runs
as `catalyst-ibkr serve` over the Client Portal API (verified HTTPS).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from sim_fixtures import RunningSim

CLI = str(Path(sys.executable).parent / "catalyst-ibkr")
SIGNALS = 30
#: The simulator's and the client's (they must agree, or heartbeats look late).
TIME_SCALE = 50.0

pytestmark = pytest.mark.timeout(240)


class Service:
    def __init__(self, tmp_path: Path, sim: RunningSim, run: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALYST_", "IBEAM_"))}
        env.update(CATALYST_GATEWAY_CA_FILE=str(sim.ca_file),
                   CATALYST_PACING_TIME_SCALE=str(TIME_SCALE),
                   # One pacing state per run: with the killed process's state file
                   # shared, about 1 restart in 10 waited silently before its first
                   # request (not yet explained; reported, see the api report).
                   CATALYST_PACING_STATE_DIR=str(tmp_path / f"pacing-{run}"),
                   PYTHONFAULTHANDLER="1")
        self.process = subprocess.Popen(
            [CLI, "serve", "--gateway", sim.base_url, "--port", "0",
             "--db", f"sqlite:///{tmp_path}/journal.db"],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        stderr = self.process.stderr
        assert stderr is not None
        self._reader = threading.Thread(target=lambda: self.lines.extend(iter(stderr.readline, "")),
                                        daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 60
        while True:
            found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", "".join(self.lines))
            if found:
                self.url = found.group(1)
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                if self.process.poll() is None:  # hung: faulthandler prints every stack
                    self.process.send_signal(signal.SIGABRT)
                    self.process.wait(10)
                    self._reader.join(5)
                message = self.tail()
                self.kill9()
                raise AssertionError(f"the service did not start: {message}")
            time.sleep(0.05)

    def tail(self) -> str:
        lines = [line for line in self.lines if "/tickle" not in line]  # keepalive noise
        return f"exit {self.process.poll()}:\n" + "".join(lines[-150:])

    def kill9(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._reader.join(5)
        assert self.process.stderr is not None
        self.process.stderr.close()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(30) == 0, self.tail()
        self._reader.join(5)
        assert self.process.stderr is not None
        self.process.stderr.close()


def _body(n: int) -> dict[str, str]:
    return {"id": f"burst-{n:03d}", "symbol": "AAPL" if n % 2 else "MSFT", "side": "BUY",
            "quantity": str(1 + n % 3), "order_type": "MKT"}


@pytest.mark.parametrize("kill_after", [2, 11])
def test_sigkill_mid_burst_loses_nothing_and_sends_nothing_twice(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, kill_after: int
) -> None:
    sim = sim_factory(time_scale=TIME_SCALE)
    for symbol, bid, ask in (("AAPL", "190.00", "190.05"), ("MSFT", "415.00", "415.10")):
        sim.set_market(symbol, bid=bid, ask=ask, last=ask)
    service = Service(tmp_path, sim, 1)
    accepted: set[str] = set()
    with httpx.Client(base_url=service.url, timeout=5) as client:
        for n in range(SIGNALS):
            if n == kill_after:
                service.kill9()
                break
            try:
                response = client.post("/v1/signals", json=_body(n))
            except httpx.HTTPError:
                continue
            if response.status_code == 202:
                accepted.add(_body(n)["id"])
    assert accepted, "nothing was accepted before the kill"

    service = Service(tmp_path, sim, 2)
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for sid in sorted(accepted):  # not lost: journaled before the 202
                assert client.get(f"/v1/signals/{sid}").status_code == 200, sid
            for n in range(SIGNALS):  # the client retries everything it sent: idempotent
                assert client.post("/v1/signals", json=_body(n)).status_code == 202
            deadline = time.monotonic() + 90
            views: dict[str, dict[str, object]] = {}
            while time.monotonic() < deadline:
                views = {_body(n)["id"]: client.get(f"/v1/signals/{_body(n)['id']}").json()
                         for n in range(SIGNALS)}
                if all(v["status"] == "FILLED" for v in views.values()):
                    break
                time.sleep(0.2)
            if not all(v["status"] == "FILLED" for v in views.values()):
                print(client.get("/v1/health", params={"ready": 1}).text)  # shown on failure
                print(service.tail())
            assert all(v["status"] == "FILLED" for v in views.values()), \
                {k: v["status"] for k, v in views.items() if v["status"] != "FILLED"}
            positions = {p["symbol"]: Decimal(p["quantity"])
                         for p in client.get("/v1/positions").json()}
    finally:
        service.stop()

    state = sim.state()
    per_coid = Counter(o["cOID"] for o in state["orders"])
    assert per_coid and max(per_coid.values()) == 1, per_coid
    assert len(per_coid) == SIGNALS
    at_sim = {p["symbol"]: Decimal(str(p["quantity"])) for p in state["positions"]}
    expected = Counter[str]()
    for n in range(SIGNALS):
        expected[_body(n)["symbol"]] += int(_body(n)["quantity"])
    assert at_sim == {s: Decimal(q) for s, q in expected.items()}
    assert positions == at_sim
