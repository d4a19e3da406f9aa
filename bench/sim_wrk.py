"""Workload (6): the simulator's own throughput with pacing off, measured by ``wrk``.

The measuring is ``bench.sim_throughput``'s (the simulator team's script, also runnable on
its own): it starts the real ``catalyst-ibkr sim --no-pacing`` as a subprocess, times
start-up to the first answer, warms the session and lets the native ``wrk`` drive the
snapshot endpoint. This module only runs it inside ``make bench`` and reports it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

from . import sim_throughput as st
from .harness import progress
from .report_model import Goal, Table, WorkloadReport

__all__ = ["INSTALL_HINT", "run_sim_throughput"]

INSTALL_HINT = "wrk is not installed: it is a Debian package, `apt-get install -y wrk` (as root)"
TARGET_RPS = 2000.0


#: the simulator team's hand runs (bench/sim_throughput.py, 2026-11-25, load average 5-6 on
#: 2 cores while other engineers' tests ran), kept as they recorded them
HAND_RUNS = Table(["Earlier hand run (sim team, 2026-11-25)", "Requests/s", "p50", "p99",
                   "Non-2xx"], [
    ["TLS, 1 conid x 6 fields", "7,636", "3.27 ms", "16.3 ms", "0"],
    ["TLS, 1 conid x 6 fields (earlier run)", "8,678", "3.34 ms", "13.0 ms", "0"],
    ["plain http, 1 conid x 6 fields", "9,316", "2.70 ms", "15.4 ms", "0"],
])

SIM_TEAM_NOTES = (
    "Run it alone: `python -m bench.sim_throughput` (TLS) or `... --no-tls`.",
    "What made start-up fast (sim team): `catalyst-ibkr sim` used to import every CLI "
    "command and through them FastAPI, SQLAlchemy and ib_async (2.2-2.6 s); `cli/main.py` "
    "now imports only the `sim` command when that is the command invoked (~0.56 s of "
    "imports left, mostly aiohttp and typer); the simulator builds its state and app in "
    "~0.25 s.",
    "Hot path (sim team): a snapshot costs one pacing check, one `engine.step()` (a "
    "dictionary check when no order is working), one cached quote per conid per sim second "
    "and `json.dumps`; nothing proportional to the universe or the order history.",
)


def run_sim_throughput(quick: bool) -> WorkloadReport:
    started = time.perf_counter()
    report = WorkloadReport(
        "sim", "(6) Simulator throughput, pacing off (wrk)",
        "`catalyst-ibkr sim --no-pacing` in its own process (HTTPS, its self-signed "
        "certificate), session warmed, snapshot pre-flight done; `wrk` keeps connections "
        "open and requests `/iserver/marketdata/snapshot` for one conid and six fields.",
    )
    if shutil.which("wrk") is None:
        report.unavailable = INSTALL_HINT
        report.goals = [Goal(f">= {TARGET_RPS:,.0f} requests/s", None)]
        progress(INSTALL_HINT)
        return report
    seconds = 3 if quick else 10
    state_dir = Path(tempfile.mkdtemp(prefix="bench-sim-wrk-"))
    results: dict[bool, dict[str, object]] = {}
    starts: dict[str, float] = {}
    try:
        port = st._free_port()
        proc, starts["first"] = st.start_and_time(port, True, state_dir)
        proc.terminate()
        proc.wait(10)
        for tls in (True, False):
            port = st._free_port()
            proc, took = st.start_and_time(port, tls, state_dir)
            starts.setdefault("again", took)
            try:
                ctx = st._context(tls, state_dir)
                base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
                st._get(base + "/v1/api/iserver/accounts", ctx)
                url = base + st.SNAPSHOT.format(conids=st.CONIDS)
                for _ in range(2):  # the first call per conid is the pre-flight
                    st._get(url, ctx)
                progress(f"sim: wrk for {seconds} s against {url}")
                results[tls] = st.run_wrk(url, 2, 32, seconds)
            finally:
                proc.terminate()
                proc.wait(10)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    table = Table(["Run", "Requests/s", "p50", "p99", "Non-2xx"])
    for tls, result in results.items():
        raw = str(result.get("raw", ""))
        p50 = re.search(r"(?m)^\s+50%\s+(\S+)", raw)
        table.rows.append([
            "TLS" if tls else "plain http", f"**{float(str(result['requests_per_s'])):,.0f}**",
            p50.group(1) if p50 else "-", str(result["p99"]), str(result["non_2xx"]),
        ])
    rps = float(str(results[True]["requests_per_s"]))
    starts_table = Table(["Start-up, spawn to first answered request", "Seconds"], [
        ["first start (generates the certificate)", f"{starts['first']:.2f}"],
        ["later start (certificate on disk)", f"{starts['again']:.2f}"],
    ])
    report.tables = [table, starts_table, HAND_RUNS]
    report.notes = [
        f"wrk command: `wrk -t2 -c32 -d{seconds}s --latency URL` (URL: snapshot of conid "
        "265598, fields 31,84,86,85,88,7059).",
        "wrk does not verify certificates; acceptable for a loopback benchmark of our own "
        "simulator (outside src/). wrk and the simulator share the machine's cores.",
        *SIM_TEAM_NOTES,
    ]
    report.goals = [Goal(f">= {TARGET_RPS:,.0f} requests/s (TLS): measured {rps:,.0f}",
                         rps >= TARGET_RPS and int(str(results[True]["non_2xx"])) == 0)]
    report.elapsed_s = time.perf_counter() - started
    return report
