"""Workloads (4) latency and (5) intake, through ``catalyst-ibkr serve`` and a gateway process.

(4) One signal at a time: POST /v1/signals, then the moment the service's event stream
(``GET /v1/events``, server-sent events) says the signal is SUBMITTED, i.e. the gateway
acknowledged the order. Its floor is what the same path costs with nothing of ours in it:
one raw httpx round trip to the service's bare health endpoint (client -> service), one
raw order round trip to an idle simulator (service -> gateway), and the journal's fsyncs
(counted with ``strace -c`` on the running service, each timed on this disk).

(5) ``wrk`` posts distinct signals as fast as the service takes them for a few seconds;
every 202 means "journaled" (SQLite, WAL, synchronous=FULL). The count is checked in the
journal afterwards and the service's RSS is sampled from /proc throughout. The same wrk
command against a bare FastAPI endpoint (``bench/bare_fastapi.py``) calibrates the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from .harness import SimSpec, progress, start_sim
from .report_model import Goal, Table, WorkloadReport
from .service_run import Service, free_port, rss_mb, serve, signal_body, unavailable_reason
from .sim_wrk import INSTALL_HINT

__all__ = ["run_intake", "run_latency"]

ACK = {"SUBMITTED", "PARTIALLY_FILLED", "FILLED"}
TERMINAL_BAD = {"DENIED", "REJECTED", "EXPIRED", "CANCELLED"}
LIMIT = "1.00"  # far under AAPL's simulated price: passive, never filled, collar-safe
#: (4) measures latency, not throughput: each signal starts at least this long after the
#: previous one. A signal costs the socket view 4 messages (quote, open and completed
#: orders, placeOrder) and the adapter sends at most 40 per second, so back-to-back signals
#: would measure the pacing queue (~100 ms each) instead of the path; the floor's gateway
#: hop is measured with a pause between orders for the same reason.
SPACING_S = 0.2


# -- notes kept across regenerations (what changed, and what is left) --------------------------

LATENCY_HISTORY = [
    "History (2026-11-25, `.venv/bin/python -m bench --only latency`): p50 was a flat "
    "~100 ms (p99 ~106 ms): the socket adapter let ib_async send 4 messages per 100 ms, a "
    "signal costs 4 (quote, open and completed orders, placeOrder), so any fifth message "
    "held the placeOrder for most of 100 ms, and back-to-back signals measured that queue. "
    "Now 8 per 200 ms (still 40/s), an answer wakes the waiting command instead of a 5 ms "
    "poll, and signals are spaced 0.2 s apart: p50 36-38 ms. Then the adapter stopped "
    "re-reading every open and completed order before each placeOrder, and the risk context "
    "stopped decoding every recent order for each decision: p50 ~25 ms.",
    "What is left between p50 and the floor (median of 30 spaced signals, from the "
    "journal's event stamps, measured before the last two changes): the signal is "
    "journaled 2 ms after the POST starts and answered 202 at 6 ms; risk has decided and "
    "the intent is journaled at 8 ms; the order is acknowledged and applied at 21-24 ms; "
    "the signal reads SUBMITTED at 25 ms; the event-stream reader of this benchmark sees it "
    "~10 ms later. Nearly all of it is CPU on the service's one event loop: journal writes "
    "with their fsyncs run on it (the decision, the intent, each order report), plus "
    "ib_async's decoder and the in-process simulator. The floor has no room for the risk "
    "read (a quote) or the decision itself, so 1.5x (~4 ms) would need the journal writes "
    "of the order path off the event loop and fewer of them per signal.",
    "Session 3 (same day, journal stamps of 30 spaced signals, median from the POST): "
    "journaled ~1.8 ms; intent journaled ~6 ms (quote read 0.6 ms, then the decision with "
    "its risk reads and the intent transaction ~3.4 ms of CPU); place 6.9 ms against a "
    "0.76 ms floor hop, ~5 ms of it the service applying the gateway's first report "
    "(PendingSubmit, which carries the broker's order id: read, save, fsync) before it "
    "sees the ack, the simulator sharing the loop; acknowledged ~15 ms; the signal mirrors "
    "it ~1.7 ms later in a second transaction. A decision runs ~10 SQL statements and "
    "building them (SQLAlchemy statement objects and cache keys) is ~20 % of its CPU. "
    "Changed: a new signal wakes a signal pass, not a full loop iteration; a report no "
    "longer reads its order twice. p50 stayed ~22 ms (within noise).",
    "So 1.5x (~3.6 ms) is beyond reach of this design: it needs the order path's journal "
    "work off the event loop (the writer thread that intake already uses), prebuilt "
    "statements, the report and its signal mirror in one transaction, and the simulator "
    "out of the service's process.",
    "Session 4 (a slower and noisier machine: the bare FastAPI endpoint of workload (5) "
    "measured 1,850-4,740 requests/s within the hour, against 10,350 in session 3, so "
    "compare ratios, not milliseconds across sessions): the simulator now runs in its own "
    "process as IB Gateway would; the journal's hot statements are built once (building "
    "was ~3/4 of a primary-key SELECT's cost); risk reuses what it derived from each order "
    "version and the position book is rebuilt only when the fills change. In an in-process "
    "harness an order's CPU went from 10.3 to 5.4 ms. Left for (4): the quote the decision "
    "reads is a broker round trip on every signal (a snapshot; a fresh enough streamed or "
    "cached quote would spare it and halve the socket messages per order), and the "
    "decision, the intent and each report are still separate fsynced transactions on the "
    "event loop.",
]

INTAKE_HISTORY = [
    "History (2026-11-25, `.venv/bin/python -m bench --only intake`, same machine, idle): "
    "~1,100 signals/s before, ~1,400 after the group commit stopped reading back and "
    "re-validating every row it had just written. The order pipeline then got faster (no "
    "order-list reads before each placeOrder), so during the load it works the backlog at "
    "about twice the rate and takes more of the same core: ~1,250-1,400 since.",
    "What is left: the service is CPU-bound on one core (the GIL) at ~0.7 ms per signal: "
    "uvicorn + FastAPI + our route ~0.3 ms, the intake writer thread (SQLAlchemy) "
    "~0.07-0.1 ms, the event loop itself ~0.1 ms, and the order pipeline working the "
    "backlog meanwhile. 2,000/s needs < 0.5 ms per signal on that one core, or a second "
    "process taking part of the work (API workers in front of one journal writer: the "
    "several-process PostgreSQL deployment). uvloop was tried and measured within noise.",
    "Session 3 (py-spy with --gil on the running service, and probes): the event loop's "
    "thread holds the GIL ~93 % of the time; the HTTP path is ~55 % of it (~0.45 ms per "
    "signal: uvicorn + FastAPI + our route, which validates a signal twice when the "
    "default TTL applies, fingerprints it and builds its view), the order pipeline "
    "working the backlog ~30 % (~4.5 ms of CPU per order at the broker's ~45 orders/s: "
    "decision, send, two reports), the intake writer thread ~7 %. Probes on this machine: "
    "with the pipeline switched off the same build took ~1,490 signals/s; a bare FastAPI "
    "endpoint 10,350/s. Every accepted signal also woke a full loop iteration (three "
    "in-flight reads) - now only a signal pass - and a backlog pass is bounded (100 "
    "signals or 0.25 s) so health checks and in-flight resolution no longer wait behind "
    "it; throughput stayed within noise (~1,330-1,400/s) because the backlog pass "
    "dominates. 2,000/s on these 2 cores (wrk takes part of one) needs the second core: "
    "API workers in front of one OMS process over the shared journal.",
    "Session 4 (see the calibration row: this machine's bare FastAPI endpoint varied from "
    "1,850 to 4,740 requests/s within the hour; read the ratio to it): py-spy with the "
    "order pipeline off put FastAPI's routing (~14 %) and dependency solving (~18 %) above "
    "the journal writer (~13 %), so `POST /v1/signals` is now answered by a small ASGI "
    "layer before routing (api/intake_path.py, same code and answers as the route); a "
    "default ttl no longer validates each signal twice; the order pipeline's CPU per "
    "order about halved (prebuilt statements, per-version risk inputs), and the simulator "
    "left the service's process. Journaled per bare-endpoint request went from ~0.08 to "
    "~0.15 in back-to-back probes. The second core is still the way to 2,000/s.",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class _Events(threading.Thread):
    """Follows GET /v1/events and stamps the first acknowledgement of each signal."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.acked: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.ready = threading.Event()
        self.stop = False
        self.cond = threading.Condition()
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=None))

    def run(self) -> None:
        try:
            with self._client.stream("GET", self.url + "/v1/events") as response:
                self.ready.set()
                for line in response.iter_lines():
                    if self.stop:
                        return
                    self._line(line)
        except (httpx.HTTPError, RuntimeError, ValueError):
            return  # closed by close(), or the service went away: nothing left to stamp

    def close(self) -> None:
        """End the stream now (an open stream would hold up the service's shutdown)."""
        self.stop = True
        self._client.close()

    def _line(self, line: str) -> None:
        if not line.startswith("data:"):
            return
        now = time.perf_counter()
        payload = json.loads(line[5:]).get("data")
        if not isinstance(payload, dict):
            return
        sid, status = payload.get("id"), payload.get("status")
        if not isinstance(sid, str) or not isinstance(status, str):
            return
        with self.cond:
            if status in ACK and sid not in self.acked:
                self.acked[sid] = now
                self.cond.notify_all()
            elif status in TERMINAL_BAD:
                self.failed[sid] = status
                self.cond.notify_all()

    def wait(self, sid: str, timeout: float) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: sid in self.acked or sid in self.failed, timeout)
            return self.acked.get(sid)


def _one_signal(client: httpx.Client, events: _Events, prefix: str, i: int) -> float:
    sid = f"{prefix}-{i}"
    started = time.perf_counter()
    answer = client.post("/v1/signals", content=signal_body(sid, LIMIT),
                         headers={"Content-Type": "application/json"})
    if answer.status_code != 202:
        raise RuntimeError(f"signal {sid}: HTTP {answer.status_code} {answer.text[:200]}")
    acked = events.wait(sid, 30)
    if acked is None:
        raise RuntimeError(f"signal {sid} not acknowledged: {events.failed.get(sid, 'timeout')}")
    return acked - started


def _strace_fsyncs(service: Service, client: httpx.Client, events: _Events,
                   count: int) -> float | None:
    """fsync + fdatasync calls per signal, counted on the live service (None: no strace)."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        proc = subprocess.Popen([strace, "-f", "-c", "-e", "trace=fsync,fdatasync", "-o",
                                 out.name, "-p", str(service.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # attached to every thread
        for i in range(count):
            _one_signal(client, events, "bench-fsync", i)
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        text = Path(out.name).read_text()
    calls = 0
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[-1] in ("fsync", "fdatasync"):
            calls += int(parts[3])  # % time, seconds, usecs/call, calls, [errors], name
    return calls / count


def _fsync_cost_s(directory: Path, samples: int = 100) -> float:
    """Median time of one 4 KB write + fsync on the journal's disk."""
    path = directory / "fsync-probe"
    times = []
    with path.open("wb") as fh:
        for _ in range(samples):
            fh.write(b"\0" * 4096)
            fh.flush()
            t0 = time.perf_counter()
            os.fsync(fh.fileno())
            times.append(time.perf_counter() - t0)
    path.unlink()
    return statistics.median(times)


def _gateway_round_trip_s(samples: int) -> float:
    """Median placeOrder -> Submitted on an idle simulator's TWS view (ib_async)."""
    from ib_async import IB, LimitOrder, Stock

    sim = start_sim(SimSpec(pacing=False, tws=True))

    async def measure() -> list[float]:
        ib = IB()
        await ib.connectAsync("127.0.0.1", int(sim.server.tws_port or 0), clientId=7,
                              timeout=20)
        contract = Stock("AAPL", "SMART", "USD")
        await ib.qualifyContractsAsync(contract)
        out = []
        live = ("Submitted", "PreSubmitted")
        for _ in range(samples):
            done = asyncio.Event()

            def on_status(trade: Any, done: asyncio.Event = done) -> None:
                if trade.orderStatus.status in live:
                    done.set()

            t0 = time.perf_counter()
            trade = ib.placeOrder(contract, LimitOrder("BUY", 1, float(LIMIT)))
            trade.statusEvent += on_status
            if trade.orderStatus.status not in live:
                await asyncio.wait_for(done.wait(), 10)
            out.append(time.perf_counter() - t0)
            await asyncio.sleep(0.03)  # stay far below 50 msg/s
        ib.disconnect()
        return out

    try:
        return statistics.median(asyncio.run(measure()))
    finally:
        sim.stop()


def run_latency(quick: bool) -> WorkloadReport:
    started = time.perf_counter()
    report = WorkloadReport(
        "latency", "(4) Signal -> order acknowledged by the gateway, through the service",
        "`catalyst-ibkr serve --gateway tws://...` (its own process; SQLite journal, WAL, "
        "synchronous=FULL) against `catalyst-ibkr sim` in another process, through the "
        "simulator's TWS socket view, as IB Gateway would be deployed. One "
        "signal at a time, each at least 0.2 s after the previous one (latency, not "
        "throughput: back-to-back signals would wait in the adapter's 40 messages/s pacing "
        "queue): BUY 1 AAPL LMT (passive). Measured from before `POST /v1/signals` to the "
        "server-sent event that says SUBMITTED.",
    )
    why = unavailable_reason()
    if why is not None:
        report.unavailable = why
        report.goals = [Goal("p50 within 1.5x of the floor", None)]
        return report
    count = 30 if quick else 200
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp, serve(Path(tmp)) as service:
        progress(f"latency: service up at {service.url} (pid {service.pid})")
        events = _Events(service.url)
        events.start()
        events.ready.wait(10)
        with httpx.Client(base_url=service.url, timeout=30) as client:
            prefix = f"bench-lat-{uuid.uuid4().hex[:8]}"
            for i in range(5):  # warm-up: contract lookup, caches, connections
                _one_signal(client, events, prefix + "-warm", i)
            progress(f"latency: {count} signals, one at a time, {SPACING_S:.2f} s apart")
            samples = []
            for i in range(count):
                samples.append(_one_signal(client, events, prefix, i))
                time.sleep(max(0.0, SPACING_S - samples[-1]))
            hop1 = statistics.median(
                _timed(lambda: client.get("/v1/health")) for _ in range(200))
            progress("latency: counting the journal's fsyncs per signal (strace -c)")
            fsyncs = _strace_fsyncs(service, client, events, 20)
        events.close()
        fsync_s = _fsync_cost_s(Path(tmp))
    progress("latency: the gateway round trip on an idle simulator")
    hop2 = _gateway_round_trip_s(30 if quick else 100)
    p50, p99 = _pct(samples, 50), _pct(samples, 99)
    fsync_part = (fsyncs or 0.0) * fsync_s
    floor = hop1 + hop2 + fsync_part
    report.tables = [
        Table(["Measure", "Value"], [
            ["Signals (sequential)", str(count)],
            ["p50", f"**{p50 * 1000:.2f} ms**"],
            ["p99", f"{p99 * 1000:.2f} ms"],
            ["mean", f"{statistics.fmean(samples) * 1000:.2f} ms"],
            ["floor", f"**{floor * 1000:.2f} ms**"],
            ["p50 / floor", f"**{p50 / floor:.2f}x**"],
        ]),
        Table(["Floor component", "Value", "How"], [
            ["client -> service", f"{hop1 * 1000:.3f} ms",
             "median raw httpx GET /v1/health on the running service (keep-alive)"],
            ["service -> gateway", f"{hop2 * 1000:.3f} ms",
             "median placeOrder -> Submitted on an idle simulator's TWS view (ib_async)"],
            ["journal fsyncs", f"{fsync_part * 1000:.3f} ms",
             (f"{fsyncs:.1f} fsync/fdatasync per signal (strace -c on the service) x "
              f"{fsync_s * 1000:.3f} ms (median 4 KB write + fsync on this disk)")
             if fsyncs is not None else "strace not installed: fsyncs not counted"],
        ]),
    ]
    report.notes = [
        "Backend: the simulator's TWS socket view in its own process (`catalyst-ibkr sim "
        "--tws-port 0 --no-pacing`; `serve --gateway tws://127.0.0.1:PORT`), so the second "
        "hop is a socket order round trip rather than an HTTPS one; the floor uses the same "
        "kind of hop. Until session 4 the simulator ran inside the service's process "
        "(`serve --sim --sim-backend tws`), where its work took the service's core.",
        *LATENCY_HISTORY,
    ]
    report.goals = [Goal(f"p50 within 1.5x of the floor: measured {p50 / floor:.2f}x",
                         p50 <= 1.5 * floor)]
    report.elapsed_s = time.perf_counter() - started
    return report


def _timed(call: Any) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


WRK_SCRIPT = """
local n = 0
local prefix = "%s"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{"id":"' .. prefix .. '-' .. n .. '","symbol":"AAPL","side":"BUY",' ..
    '"quantity":"1","order_type":"LMT","limit_price":"%s","tif":"DAY"}'
  return wrk.format(nil, "/v1/signals", nil, body)
end
"""


def run_intake(quick: bool) -> WorkloadReport:
    started = time.perf_counter()
    report = WorkloadReport(
        "intake", "(5) Signal intake throughput and the service's RSS under load",
        "`wrk` (one thread, 16 connections) posts distinct signals to `catalyst-ibkr serve` "
        "for a fixed time; a 202 means the signal is journaled (SQLite, WAL, "
        "synchronous=FULL). The service keeps working them meanwhile (risk, orders to the "
        "gateway: `catalyst-ibkr sim` in its own process, through its TWS socket view), as "
        "it would in production. RSS is sampled from /proc every 100 ms.",
    )
    why = unavailable_reason()
    wrk = shutil.which("wrk")
    if why is None and wrk is None:
        why = INSTALL_HINT
    if why is not None:
        report.unavailable = why
        report.goals = [Goal(">= 2,000 signals/s journaled, RSS < 150 MB", None)]
        return report
    assert wrk is not None
    seconds = 3 if quick else 10
    # The machine's speed is measured just before and just after the service's run: on a
    # shared host it moves by 2x within an hour, and a ratio to a reading taken at another
    # moment would measure the host, not the service.
    bare_before = _calibrate(wrk, quick)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp, serve(Path(tmp)) as service:
        idle_rss = rss_mb(service.pid)
        script = Path(tmp) / "signals.lua"
        prefix = f"bench-in-{uuid.uuid4().hex[:8]}"
        script.write_text(WRK_SCRIPT % (prefix, LIMIT))
        peak = [idle_rss]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                peak.append(rss_mb(service.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cmd = [wrk, "-t1", "-c16", f"-d{seconds}s", "--latency", "-s", str(script),
               service.url + "/v1/signals"]
        progress(f"intake: wrk for {seconds} s against {service.url}/v1/signals")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        time.sleep(1.0)
        done.set()
        sampler.join()
        after_rss = rss_mb(service.pid)
        fsync_s = _fsync_cost_s(Path(tmp))
        with contextlib.closing(
                sqlite3.connect(f"file:{service.db_path}?mode=ro", uri=True)) as db:
            journaled = int(db.execute(
                "SELECT count(*) FROM signals WHERE id LIKE ?", (prefix + "-%",)
            ).fetchone()[0])
    bare_after = _calibrate(wrk, quick)
    readings = [b for b in (bare_before, bare_after) if b is not None]
    bare = statistics.fmean(readings) if readings else None
    rps = float(_grab(r"Requests/sec:\s+([\d.]+)", out) or 0)
    non2xx = int(_grab(r"Non-2xx or 3xx responses:\s+(\d+)", out) or 0)
    total = int(_grab(r"(\d+) requests in", out) or 0)
    per_s = journaled / seconds
    wrk_p50 = _grab(r"(?m)^\s+50%\s+(\S+)", out)
    wrk_p99 = _grab(r"(?m)^\s+99%\s+(\S+)", out)
    max_rss = max(peak)
    report.tables = [Table(["Measure", "Value"], [
        ["Signals answered 202 per second (wrk)", f"{rps:,.0f}"],
        ["Signals found in the journal", f"{journaled:,} of {total:,} sent "
                                         f"({non2xx} non-2xx)"],
        ["Journaled per second", f"**{per_s:,.0f}**"],
        ["RSS idle / peak / after", f"{idle_rss:.0f} / **{max_rss:.0f}** / {after_rss:.0f} MB"],
        ["wrk latency p50 / p99", f"{wrk_p50} / {wrk_p99}"],
        ["wrk command", f"`wrk -t1 -c16 -d{seconds}s --latency -s signals.lua URL`"],
        ["Bare FastAPI endpoint, same wrk command, before / after (calibration)",
         " / ".join("failed" if b is None else f"{b:,.0f}" for b in (bare_before, bare_after))
         + " requests/s"],
        ["Journaled per second / bare endpoint (mean of the two)",
         "-" if bare is None else f"{per_s / bare:.2f}"],
    ])]
    report.notes = [
        "wrk, the service and the gateway process share the machine's 2 cores; the service "
        "also runs its order pipeline against the gateway during the load.",
        f"One 4 KB write + fsync took {fsync_s * 1000:.2f} ms on this disk right after the "
        f"load (median of 100; the issue assumed ~0.3 ms; on this shared machine it has "
        f"ranged from ~0.3 to ~5 ms): one commit per signal alone would cap intake at "
        f"~{1 / fsync_s:,.0f} signals/s. "
        + ("Measured intake is far below that, so the limit is the service's own work per "
           "signal, not the disk." if per_s < 0.5 / fsync_s else
           "Measured intake is close to that: the disk is the limit (the group commit "
           "already shares one fsync among the signals of a batch)."),
        ("This machine served a bare FastAPI endpoint (`bench/bare_fastapi.py`: read the "
         f"body, answer 202) at {bare:,.0f} requests/s (mean of the readings before and after "
         "the service's run) with the same wrk command; the issue "
         f"wrote its goal beside ~{ISSUE_BARE_RPS:,.0f}/s on one core. Scaled to this "
         f"machine, 2,000 signals/s there would be ~{2000 * bare / ISSUE_BARE_RPS:,.0f}/s "
         "here (a reading aid only: the goal is the absolute rate)."
         if bare is not None else "The bare FastAPI calibration failed to start."),
        *INTAKE_HISTORY,
    ]
    report.goals = [
        Goal(f">= 2,000 signals/s journaled on SQLite synchronous FULL: measured {per_s:,.0f}",
             per_s >= 2000),
        Goal(f"RSS < 150 MB under load: peak {max_rss:.0f} MB", max_rss < 150),
    ]
    report.elapsed_s = time.perf_counter() - started
    return report


#: what the issue measured for a bare FastAPI endpoint on one core (its goal's reference)
ISSUE_BARE_RPS = 6600.0


def _calibrate(wrk: str, quick: bool) -> float | None:
    progress("intake: the same wrk command against a bare FastAPI endpoint (calibration)")
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        script = Path(tmp) / "signals.lua"
        script.write_text(WRK_SCRIPT % ("bare", LIMIT))
        return _bare_fastapi_rps(wrk, script, 3 if quick else 5)


def _bare_fastapi_rps(wrk: str, script: Path, seconds: int) -> float | None:
    """Requests/s of ``bench/bare_fastapi.py`` under the same wrk command (None: failed)."""
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_fastapi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/signals"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.post(url, content=b"{}", timeout=1).status_code == 202:
                    break
            time.sleep(0.1)
        else:
            return None
        out = subprocess.run([wrk, "-t1", "-c16", f"-d{seconds}s", "-s", str(script), url],
                             check=True, capture_output=True, text=True).stdout
        return float(_grab(r"Requests/sec:\s+([\d.]+)", out) or 0) or None
    finally:
        proc.terminate()
        proc.wait(10)


def _grab(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


