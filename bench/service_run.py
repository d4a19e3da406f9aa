"""``catalyst-ibkr serve --sim`` as a child process, for workloads (4) and (5).

The service runs exactly as a user starts it (its own process, its own event loop, the
simulator in-process, the SQLite journal with synchronous=FULL), so its latency, throughput
and RSS are its own and not the benchmark's. We only read what it prints, its HTTP API and
``/proc/PID/status``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["Service", "free_port", "rss_mb", "serve", "unavailable_reason"]

TWS_LINE = re.compile(r"TWS socket view on port (\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("catalyst-ibkr")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "catalyst_ibkr.cli.main"]


def unavailable_reason() -> str | None:
    """Why the service cannot be benchmarked in this checkout, or None."""
    try:
        import catalyst_ibkr.api.runtime
        import catalyst_ibkr.cli.serve  # noqa: F401
    except ImportError as exc:
        return f"the service is not in this build ({exc})"
    return None


@dataclass
class Service:
    proc: subprocess.Popen[str]
    url: str
    db_path: Path
    tws_port: int | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` (VmRSS), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def serve(workdir: Path, *, startup_s: float = 60.0) -> Iterator[Service]:
    """Start ``serve --sim`` on a free port with a fresh SQLite journal; stop it after."""
    port = free_port()
    db = workdir / "journal.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    proc = subprocess.Popen(
        # The socket view, as when these workloads were first measured (`serve --sim` now
        # defaults to the Web API): the floor in workload (4) is a socket hop too.
        [*_cli(), "serve", "--sim", "--sim-backend", "tws", "--port", str(port),
         "--db", f"sqlite:///{db}"],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    service = Service(proc, f"http://127.0.0.1:{port}", db)

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            service.lines.append(line.rstrip())
            match = TWS_LINE.search(line)
            if match and service.tws_port is None:
                service.tws_port = int(match.group(1))

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + startup_s
        with httpx.Client(base_url=service.url, timeout=2) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("serve exited during start-up: "
                                       + " | ".join(service.lines[-6:]))
                try:
                    if client.get("/v1/health", params={"ready": "1"}).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"serve not ready within {startup_s:.0f} s: "
                                       + " | ".join(service.lines[-6:]))
                time.sleep(0.1)
        yield service
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


def signal_body(signal_id: str, limit: str) -> str:
    return json.dumps({"id": signal_id, "symbol": "AAPL", "side": "BUY", "quantity": "1",
                       "order_type": "LMT", "limit_price": limit, "tif": "DAY"})


def strace_available() -> bool:
    return shutil.which("strace") is not None
