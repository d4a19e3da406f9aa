"""``catalyst-ibkr serve`` and its gateway as child processes, for workloads (4) and (5).

The service runs exactly as a user deploys it: its own process and event loop, the SQLite
journal with synchronous=FULL, and the gateway in another process (here ``catalyst-ibkr
sim`` with its TWS socket view, as IB Gateway would be), reached over loopback. Its latency,
throughput and RSS are its own, not the benchmark's nor the gateway's. We only read what
they print, the service's HTTP API and ``/proc/PID/status``.
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

__all__ = ["Service", "free_port", "gateway_process", "rss_mb", "serve", "unavailable_reason"]

SIM_TWS_LINE = re.compile(r"TWS socket API at [\d.]+:(\d+)")


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
def gateway_process(workdir: Path, *, startup_s: float = 60.0) -> Iterator[int]:
    """``catalyst-ibkr sim`` in its own process (its TWS socket view, no pacing, as ``serve
    --sim --sim-backend tws`` ran it in-process before); yields its TWS port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    env["PYTHONUNBUFFERED"] = "1"  # its start-up lines name the port: no pipe buffering
    proc = subprocess.Popen(
        [*_cli(), "sim", "--port", "0", "--tws-port", "0", "--no-tls", "--no-pacing",
         "--state-dir", str(workdir / "sim")],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    found: list[int] = []
    seen: list[str] = []
    ready = threading.Event()

    def read() -> None:  # keeps draining the pipe for as long as the simulator lives
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line.rstrip())
            match = SIM_TWS_LINE.search(line)
            if match and not found:
                found.append(int(match.group(1)))
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(startup_s) or not found:
            raise RuntimeError("the simulator did not start: " + " | ".join(seen[-6:]))
        yield found[0]
    finally:
        _stop(proc)
        reader.join(5)  # the pipe reaches EOF once the process is gone
        if proc.stdout is not None:
            proc.stdout.close()


@contextmanager
def serve(workdir: Path, *, startup_s: float = 60.0) -> Iterator[Service]:
    """Start a gateway process and ``serve --gateway tws://...`` on a free port with a fresh
    SQLite journal; stop both after."""
    with gateway_process(workdir, startup_s=startup_s) as tws_port:
        port = free_port()
        db = workdir / "journal.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
        proc = subprocess.Popen(
            [*_cli(), "serve", "--gateway", f"tws://127.0.0.1:{tws_port}", "--port", str(port),
             "--db", f"sqlite:///{db}"],
            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )
        service = Service(proc, f"http://127.0.0.1:{port}", db, tws_port)

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                service.lines.append(line.rstrip())

        threading.Thread(target=read, daemon=True).start()
        try:
            _wait_ready(service, startup_s)
            yield service
        finally:
            _stop(proc)
            if proc.stderr is not None:
                proc.stderr.close()


def _wait_ready(service: Service, startup_s: float) -> None:
    deadline = time.monotonic() + startup_s
    with httpx.Client(base_url=service.url, timeout=2) as client:
        while True:
            if service.proc.poll() is not None:
                raise RuntimeError("serve exited during start-up: "
                                   + " | ".join(service.lines[-6:]))
            try:
                if client.get("/v1/health", params={"ready": "1"}).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve not ready within {startup_s:.0f} s: "
                                   + " | ".join(service.lines[-6:]))
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def signal_body(signal_id: str, limit: str) -> str:
    return json.dumps({"id": signal_id, "symbol": "AAPL", "side": "BUY", "quantity": "1",
                       "order_type": "LMT", "limit_price": limit, "tif": "DAY"})


def strace_available() -> bool:
    return shutil.which("strace") is not None
