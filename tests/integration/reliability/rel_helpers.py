"""Shared helpers for the reliability matrix tests (docs/reliability.md).

The real-service stack lives with the API tests (tests/integration/api/api_stack.py); these
tests reuse it rather than building a second one, so both suites exercise the same wiring.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

API_TESTS = Path(__file__).resolve().parents[1] / "api"
if str(API_TESTS) not in sys.path:
    sys.path.insert(0, str(API_TESTS))

from api_stack import (  # noqa: E402
    ORDER_POST,
    SETTLED,
    Stack,
    one_order_per_coid,
    post_signal,
    settle,
    start_stack,
)

__all__ = ["ORDER_POST", "SETTLED", "Stack", "one_order_per_coid", "positions_match",
           "post_signal", "settle", "start_stack"]

def positions_match(stack: Stack) -> dict[str, Decimal]:
    """The service's positions equal the simulator's (symbol -> quantity, zeros dropped)."""
    ours = {p["symbol"]: Decimal(str(p["quantity"]))
            for p in stack.client.get("/v1/positions").json()}
    theirs = {p["symbol"]: Decimal(str(p["quantity"])) for p in stack.sim.state()["positions"]}
    ours = {s: q for s, q in ours.items() if q}
    theirs = {s: q for s, q in theirs.items() if q}
    assert ours == theirs, (ours, theirs)
    return theirs


class ServeProcess:
    """`catalyst-ibkr serve` as a real subprocess on a SQLite journal in `tmp_path`, trading
    with `sim` over verified HTTPS (client pacing scaled). SIGKILL is the crash under test."""

    def __init__(self, tmp_path: Path, sim: Any, env: dict[str, str] | None = None) -> None:
        import os
        import re
        import subprocess
        import threading

        cli = str(Path(sys.executable).parent / "catalyst-ibkr")
        full = {k: v for k, v in os.environ.items() if not k.startswith(("CATALYST_", "IBEAM_"))}
        full.update(CATALYST_GATEWAY_CA_FILE=str(sim.ca_file), CATALYST_PACING_TIME_SCALE="50",
                    CATALYST_PACING_STATE_DIR=str(tmp_path / "pacing"), PYTHONFAULTHANDLER="1",
                    **(env or {}))
        self.process = subprocess.Popen(
            [cli, "serve", "--gateway", sim.base_url, "--port", "0",
             "--db", f"sqlite:///{tmp_path}/journal.db"],
            cwd=tmp_path, env=full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        stderr = self.process.stderr
        assert stderr is not None
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(iter(stderr.readline, "")), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 90  # generous: a loaded 2-core box
        while True:
            found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", "".join(self.lines))
            if found:
                self.url = found.group(1)
                return
            if self.process.poll() is None and time.monotonic() > deadline:
                import signal

                self.process.send_signal(signal.SIGABRT)  # faulthandler: where it hangs
                self.process.wait(10)
                self._close()
                raise AssertionError("serve did not start in time:\n" + "".join(self.lines))
            assert self.process.poll() is None, "".join(self.lines)
            time.sleep(0.05)

    def _close(self) -> None:
        self._reader.join(5)
        assert self.process.stderr is not None
        self.process.stderr.close()

    def kill9(self) -> None:
        import signal

        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._close()

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(30) == 0, "".join(self.lines)
        self._close()
