"""Simulator speed: time until ``catalyst-ibkr sim`` serves, and snapshot requests per second.

Run: ``python -m bench.sim_throughput`` (needs Debian's ``wrk`` on PATH: ``apt-get install -y
wrk``).  It starts the real simulator as a subprocess with ``--no-pacing`` on a free loopback
port, measures the time from spawning the process to the first answered request, warms the
session the way a client must (``/iserver/accounts``, then the snapshot pre-flight), and lets
``wrk`` hammer ``/iserver/marketdata/snapshot``.  A native load generator, so the number is
the server's, not a Python client's.  Results are printed; docs/benchmarks.md records them.

``wrk`` does not verify certificates; that is acceptable for a loopback benchmark of our own
simulator and stays here, outside src/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ibkr_sim.tls import CERT_NAME

SNAPSHOT = "/v1/api/iserver/marketdata/snapshot?conids={conids}&fields=31,84,86,85,88,7059"
CONIDS = "265598"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _sim_command(port: int, tls: bool, state_dir: Path) -> list[str]:
    script = Path(sys.executable).with_name("catalyst-ibkr")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "ibkr_sim"]
    cmd = [*base, "sim", "--port", str(port), "--no-pacing", "--state-dir", str(state_dir)]
    if not tls:
        cmd.append("--no-tls")
    return cmd


def _get(url: str, context: ssl.SSLContext | None, method: str = "GET") -> Any:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=2, context=context) as response:
        return json.loads(response.read())


def _context(tls: bool, state_dir: Path) -> ssl.SSLContext | None:
    if not tls:
        return None
    cert = state_dir / CERT_NAME
    if not cert.exists():
        return None
    return ssl.create_default_context(cafile=str(cert))


def start_and_time(port: int, tls: bool, state_dir: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Spawn the sim; seconds from spawn until ``/tickle`` answers."""
    started = time.perf_counter()
    proc = subprocess.Popen(_sim_command(port, tls, state_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1/api/tickle"
    deadline = started + 30
    while time.perf_counter() < deadline:
        try:
            _get(url, _context(tls, state_dir), method="POST")
            return proc, time.perf_counter() - started
        except (OSError, ValueError):
            if proc.poll() is not None:
                raise RuntimeError("the simulator exited during start-up") from None
            time.sleep(0.01)
    proc.kill()
    raise RuntimeError("the simulator did not serve within 30 s")


def run_wrk(url: str, threads: int, connections: int, seconds: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p99 = re.search(r"(?m)^\s+99%\s+(\S+)", out)  # the distribution row, not a Stdev "..99%"
    return {"command": " ".join(cmd), "requests_per_s": rps,
            "non_2xx": int(bad.group(1)) if bad else 0, "p99": p99.group(1) if p99 else None,
            "raw": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tls", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--conids", default=CONIDS, help="comma-separated conids per request")
    args = parser.parse_args(argv)
    state_dir = Path(tempfile.mkdtemp(prefix="sim-bench-"))
    scheme = "https" if args.tls else "http"
    # First start generates the certificate; the second reuses it (the usual case).
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "tls": args.tls}
    for label in ("first_start_s", "start_s"):
        port = _free_port()
        proc, seconds = start_and_time(port, args.tls, state_dir)
        results[label] = round(seconds, 3)
        if label == "first_start_s":
            proc.terminate()
            proc.wait(10)
    try:
        ctx = _context(args.tls, state_dir)
        base = f"{scheme}://127.0.0.1:{port}"
        _get(base + "/v1/api/iserver/accounts", ctx)
        url = base + SNAPSHOT.format(conids=args.conids)
        for _ in range(2):  # the first call per conid is the pre-flight
            _get(url, ctx)
        results["wrk"] = run_wrk(url, args.threads, args.connections, args.seconds)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(state_dir, ignore_errors=True)
    raw = results["wrk"].pop("raw")
    print(raw)
    print(json.dumps(results, indent=2))
    ok = results["wrk"]["requests_per_s"] >= 2000 and results["start_s"] <= 2.0
    print("PASS" if ok else "BELOW TARGET", "(targets: >= 2000 req/s, serving within 2 s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
