"""``python -m bench`` (``make bench``): run every benchmark and rewrite docs/benchmarks.md.

``--only NAME`` (repeatable) runs some benchmarks, ``--quick`` runs small variants at a
higher time scale (a smoke run: its numbers are not comparable and it does not touch the
doc unless ``--out`` says so). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .harness import REPO, progress
from .report import render
from .report_model import WorkloadReport

__all__ = ["BENCHMARKS", "main"]



@dataclass(frozen=True)
class RunOptions:
    quick: bool = False
    #: None: every client; else only these (``--peer``)
    peers: frozenset[str] | None = None


Runner = Callable[[RunOptions], WorkloadReport]


def _quotes(opts: RunOptions) -> WorkloadReport:
    from .socket_workloads import add_socket_quotes
    from .web_workloads import Sizes, run_quotes

    sizes = Sizes(symbols=100, time_scale=10) if opts.quick else Sizes()
    return add_socket_quotes(run_quotes(sizes, opts.peers), sizes, opts.peers)


def _orders(opts: RunOptions) -> WorkloadReport:
    from .socket_workloads import add_socket_orders
    from .web_workloads import Sizes, run_orders

    sizes = Sizes(orders=20, time_scale=10) if opts.quick else Sizes()
    return add_socket_orders(run_orders(sizes, opts.peers), sizes, opts.peers)


def _dashboard(opts: RunOptions) -> WorkloadReport:
    from .web_workloads import Sizes, run_dashboard

    return run_dashboard(Sizes(time_scale=10) if opts.quick else Sizes(), opts.peers)


def _latency(opts: RunOptions) -> WorkloadReport:
    from .service_workloads import run_latency

    return run_latency(opts.quick)


def _intake(opts: RunOptions) -> WorkloadReport:
    from .service_workloads import run_intake

    return run_intake(opts.quick)


def _sim(opts: RunOptions) -> WorkloadReport:
    from .sim_wrk import run_sim_throughput

    return run_sim_throughput(opts.quick)


BENCHMARKS: dict[str, Runner] = {
    "quotes": _quotes,
    "orders": _orders,
    "dashboard": _dashboard,
    "latency": _latency,
    "intake": _intake,
    "sim": _sim,
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                   help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    p.add_argument("--quick", action="store_true",
                   help="small variants at time scale 10 (smoke run; numbers not comparable)")
    p.add_argument("--peer", action="append", metavar="CLIENT",
                   help="run only this client (repeatable): ours, ours-warm, ibind, seed, "
                        "ib_async")
    p.add_argument("--out", type=Path, default=None,
                   help="write the document here (default: docs/benchmarks.md for a full "
                        "run, stdout for --only/--quick)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = args.only or list(BENCHMARKS)
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    opts = RunOptions(args.quick, frozenset(args.peer) if args.peer else None)
    full = args.only is None and not args.quick and args.peer is None
    if full:
        command = "make bench  (= .venv/bin/python -m bench)"
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    reports: list[WorkloadReport] = []
    for name in names:
        progress(f"== {name} ==")
        t0 = time.perf_counter()
        try:
            report = BENCHMARKS[name](opts)
        except Exception as exc:  # one broken benchmark must not lose the others' numbers
            progress(f"{name} failed: {type(exc).__name__}: {exc}")
            report = WorkloadReport(name, name, "", unavailable=f"benchmark crashed: "
                                    f"{type(exc).__name__}: {exc}")
        report.elapsed_s = time.perf_counter() - t0
        reports.append(report)
    mode = "quick smoke run: small sizes, time scale 10" if args.quick else (
        "full run" if full else f"partial run: {', '.join(names)}")
    document = render(reports, command, mode, load_at_start)
    out: Path | None = args.out
    if out is None and full:
        out = REPO / "docs" / "benchmarks.md"
    if out is None:
        sys.stdout.write(document)
    else:
        out.write_text(document, "utf-8")
        progress(f"wrote {out}")
    progress(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
