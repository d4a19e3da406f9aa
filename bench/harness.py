"""Run one client ("peer") against one FRESH simulator and watch for the first 429.

Why a child process per peer: the peers are real libraries with process-wide side effects
(the seed disables urllib3 warnings, ibind starts threads and loggers), so each runs alone in
its own interpreter and nothing it does can leak into the next peer or into our numbers.
Why a fresh simulator per peer: the simulator paces per client address and every peer comes
from 127.0.0.1, so a shared simulator would charge one peer for another's requests.

The child (``python -m bench.drivers.<peer> SPEC.json``) prints ``START`` on stdout the
moment its workload begins and ``RESULT {json}`` when it ends. Meanwhile this process polls
the simulator's 429 counter; the first 429 stops the child at once (SIGKILL to the process we
started) and the run is reported as "penalty box after N requests" -- waiting out a 10-15
minute box would measure nothing but the box.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ibkr_sim.options import SimOptions
from ibkr_sim.pacing import PaceDecision
from ibkr_sim.server import ThreadedSim

__all__ = ["PeerRun", "SimSpec", "progress", "request_mix", "run_peer", "start_sim"]

REPO = Path(__file__).resolve().parent.parent
#: one certificate for every simulator of a run (generating it is the slow part of a start)
STATE_DIR = Path(tempfile.gettempdir()) / "catalyst-ibkr-bench-sim"


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout stays free for a document or a pipe."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SimSpec:
    """How every peer's simulator is configured: IBKR's pacing, at one time scale for all."""

    time_scale: float = 1.0
    pacing: bool = True
    tws: bool = False


_ID = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f-]{27,})(?=/|$)")


def request_mix(sim: ThreadedSim) -> Counter[str]:
    """``METHOD path`` -> count of every Client Portal request the simulator saw."""
    mix = getattr(sim, "bench_mix", None)
    return mix if isinstance(mix, Counter) else Counter()


def start_sim(spec: SimSpec) -> ThreadedSim:
    """A fresh simulator; its pacer is wrapped (observed, not changed) to log the mix."""
    options = SimOptions(
        host="127.0.0.1", port=0, state_dir=STATE_DIR, pacing=spec.pacing,
        time_scale=spec.time_scale, tws_port=0 if spec.tws else None,
    )
    sim = ThreadedSim(options)
    pacer = sim.state.pacer
    check = pacer.check
    mix: Counter[str] = Counter()
    account = sim.state.account_id

    def counting(address: str, method: str, path: str) -> PaceDecision:
        mix[f"{method} " + _ID.sub("/{id}", path.replace(account, "{acct}"))] += 1
        return check(address, method, path)

    pacer.check = counting  # type: ignore[method-assign]
    sim.bench_mix = mix  # type: ignore[attr-defined]
    return sim.start()


@dataclass
class PeerRun:
    """What happened to one peer on one workload (numbers from the simulator's own stats)."""

    peer: str
    wall_s: float | None = None
    requests: int = 0
    rate_limited: int = 0
    stopped_after: int | None = None  # accepted requests before the penalty box
    ok: bool = False
    skipped: str | None = None
    failure: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    #: "METHOD /path" -> count, as the simulator saw them
    mix: dict[str, int] = field(default_factory=dict)

    @property
    def penalty_boxed(self) -> bool:
        return self.stopped_after is not None


def _child_env(sim: ThreadedSim) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CURL_CA_BUNDLE", None)
    # requests lets REQUESTS_CA_BUNDLE override a session's verify=False (the seed's), so the
    # seed's connection is verified against the simulator's certificate after all.
    if sim.ca_file is not None:
        env["REQUESTS_CA_BUNDLE"] = str(sim.ca_file)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["IBIND_LOG_TO_CONSOLE"] = "False"
    env["IBIND_LOG_TO_FILE"] = "False"
    return env


class _ChildReader(threading.Thread):
    """Collects the child's stdout: the START moment and the RESULT document."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.started_at: float | None = None
        self.result: dict[str, Any] | None = None

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("START") and self.started_at is None:
                self.started_at = time.perf_counter()
            elif line.startswith("RESULT "):
                self.result = json.loads(line[len("RESULT "):])


def run_peer(
    peer: str,
    module: str,
    spec: dict[str, Any],
    sim: ThreadedSim,
    *,
    timeout_s: float,
    rate_limited: Callable[[], int] | None = None,
) -> PeerRun:
    """Run ``python -m MODULE SPEC`` against ``sim``; stop it at the first 429.

    ``rate_limited`` reads the simulator's 429 counter (the Web API's by default; the socket
    peers pass their own pacing-violation counter).
    """
    run = PeerRun(peer)
    counter = rate_limited or (lambda: sim.state.pacer.totals.rate_limited_total)
    spec = {**spec, "base_url": sim.base_url, "api_url": sim.api_url,
            "ca_file": str(sim.ca_file) if sim.ca_file else None,
            "account": sim.state.account_id, "tws_port": sim.server.tws_port}
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec), "utf-8")
        err_path = Path(tmp) / "stderr.txt"
        with err_path.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, str(spec_path)], cwd=tmp, env=_child_env(sim),
                stdout=subprocess.PIPE, stderr=err, text=True,
            )
            reader = _ChildReader(proc)
            reader.start()
            deadline = time.perf_counter() + timeout_s
            killed_at: float | None = None
            while proc.poll() is None:
                if counter() > 0:
                    proc.kill()
                    killed_at = time.perf_counter()
                    break
                if time.perf_counter() > deadline:
                    proc.kill()
                    run.failure = f"no result within {timeout_s:.0f} s"
                    break
                time.sleep(0.002)
            proc.wait()
            reader.join(5)
            if proc.stdout is not None:
                proc.stdout.close()
        stats = sim.call(sim.state.pacer.stats)
        run.mix = dict(request_mix(sim))
        run.requests = int(stats["requests_total"])  # type: ignore[call-overload]
        run.rate_limited = int(stats["rate_limited_total"])  # type: ignore[call-overload]
        if killed_at is None and run.rate_limited > 0:
            killed_at = time.perf_counter()  # the 429 came with the child's last request
        if killed_at is not None and run.rate_limited > 0:
            run.stopped_after = run.requests - run.rate_limited
            if reader.started_at is not None:
                run.wall_s = killed_at - reader.started_at
            return run
        result = reader.result
        if result is None:
            tail = err_path.read_text("utf-8", "replace").strip().splitlines()[-8:]
            run.failure = run.failure or "peer exited without a result: " + " | ".join(tail)
            return run
    run.wall_s = float(result.get("wall_s", 0.0))
    run.ok = bool(result.get("ok"))
    run.detail = dict(result.get("detail", {}))
    if result.get("skipped"):
        run.skipped = str(result["skipped"])
    if result.get("error"):
        run.failure = str(result["error"])
    return run


def with_sim(spec: SimSpec, tws: bool = False) -> SimSpec:
    return replace(spec, tws=tws)
