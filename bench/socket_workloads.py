"""The socket side of workloads (1) and (2): ib_async against the simulator's fake TWS.

A separate table with its own minimum: the TWS socket API meters 50 messages per second
per client (error 100 beyond that) instead of the Web API's 10 requests per second, and it
asks no precautionary order questions, so its floor is a different number. The simulator
paces the socket exactly so (``ibkr_sim.tws.session``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ibkr_sim.server import ThreadedSim

from .harness import PeerRun, SimSpec, progress, run_peer, start_sim
from .minimums import Minimum, socket_orders_minimum, socket_quotes_minimum
from .report_model import Goal, Table, WorkloadReport
from .web_workloads import Sizes, sweep_symbols

__all__ = ["add_socket_orders", "add_socket_quotes"]

COLUMNS = ["Client", "Wall time", "Messages framed", "Pacing errors (100)", "vs minimum",
           "Result"]
LABEL = "ib_async (socket API, fake TWS)"


def _run(title: str, sizes: Sizes, spec_of: Callable[[ThreadedSim], dict[str, Any]],
         check: Callable[[ThreadedSim, PeerRun], None], timeout_s: float) -> PeerRun:
    progress(f"{title}: ib_async on a fresh simulator with the fake TWS "
             f"(time scale {sizes.time_scale:g})")
    sim = start_sim(SimSpec(time_scale=sizes.time_scale, tws=True))
    try:
        run = run_peer("ib_async", "bench.drivers.ib_async_peer", spec_of(sim), sim,
                       timeout_s=timeout_s, rate_limited=lambda: 0)
        run.requests = int(run.detail.get("messages", 0))
        run.rate_limited = 0
        if "violation_after" in run.detail:
            run.stopped_after = int(run.detail["violation_after"])
            run.rate_limited = 1
        elif not run.failure:
            check(sim, run)
    finally:
        sim.stop()
    progress(f"{title}: ib_async -> {run.wall_s or 0:.2f} s, {run.requests} messages"
             + (f", {run.failure}" if run.failure else ""))
    return run


def _append(report: WorkloadReport, minimum: Minimum, run: PeerRun, success: str) -> None:
    ratio = (run.wall_s / minimum.seconds
             if run.ok and run.wall_s is not None and minimum.seconds > 0 else None)
    if run.penalty_boxed:
        result = f"**error 100 after {run.stopped_after} messages** (stopped)"
    elif run.failure:
        result = f"failed: {run.failure[:160]}"
    else:
        result = success if run.ok else f"incomplete: {success}"
    wall = "-" if run.wall_s is None else f"{run.wall_s:.2f} s"
    table = Table(COLUMNS, [[LABEL, wall, str(run.requests), str(run.rate_limited),
                             f"{ratio:.2f}x" if ratio else "-", result]])
    report.tables.append(table)
    report.minimum += [f"socket API: {minimum.derivation}",
                       f"socket minimum: **{minimum.requests} messages, "
                       f"{minimum.seconds:.2f} s**"]
    report.notes.append(
        "ib_async's wall time includes its connect-time synchronisation (it sends those "
        "messages too). 'Messages framed' counts what ib_async framed (queued before its own "
        "throttle); when a run is stopped some of them were still queued. It throttles "
        "itself to 45 messages per 1 s window and releases each burst exactly one second "
        "after the previous one; the fake TWS counts a message when "
        "it processes it, in a sliding 1 s window, so a burst processed a few ms late and the "
        "next one sent on time can land in one window (> 50). Whether real TWS stamps "
        "messages on arrival or on processing is not documented; an error 100 here may be "
        "pessimistic for ib_async.")
    report.goals.append(Goal(
        f"{LABEL} (peer, for reference): "
        + (f"{ratio:.2f}x of the socket minimum" if ratio else "not measured"), None))


def _wanted(peers: frozenset[str] | None) -> bool:
    return peers is None or "ib_async" in peers


def add_socket_quotes(
    report: WorkloadReport, sizes: Sizes, peers: frozenset[str] | None = None
) -> WorkloadReport:
    if not _wanted(peers):
        return report
    started = time.perf_counter()
    symbols = sweep_symbols(sizes.symbols)
    minimum = socket_quotes_minimum(len(symbols), sizes.time_scale)

    def spec(sim: ThreadedSim) -> dict[str, Any]:
        return {"workload": "quotes", "symbols": symbols}

    def check(sim: ThreadedSim, run: PeerRun) -> None:
        run.ok = run.ok and run.detail.get("quoted") == len(symbols)

    run = _run("quotes", sizes, spec, check, 600 / sizes.time_scale + 60)
    _append(report, minimum, run,
            f"{run.detail.get('quoted', 0)}/{len(symbols)} quotes with last, bid, ask")
    report.elapsed_s += time.perf_counter() - started
    return report


def add_socket_orders(
    report: WorkloadReport, sizes: Sizes, peers: frozenset[str] | None = None
) -> WorkloadReport:
    if not _wanted(peers):
        return report
    started = time.perf_counter()
    minimum = socket_orders_minimum(sizes.orders, sizes.time_scale)
    symbols = sweep_symbols(sizes.orders)

    def spec(sim: ThreadedSim) -> dict[str, Any]:
        from decimal import ROUND_DOWN, Decimal

        def prices() -> list[dict[str, Any]]:
            out = []
            for symbol in symbols:
                inst = sim.state.universe.by_symbol(symbol)[0]
                last = sim.state.market.quote(inst.conid).last
                limit = (last * Decimal("0.85")).quantize(Decimal("0.01"), ROUND_DOWN)
                out.append({"conid": inst.conid, "price": str(limit)})
            return out

        return {"workload": "orders", "orders": sim.call(prices)}

    def check(sim: ThreadedSim, run: PeerRun) -> None:
        def books() -> tuple[int, int]:
            orders = sim.state.engine.orders(sim.state.account_id)
            return len(orders), sum(1 for o in orders if o.status == "Cancelled")

        placed, cancelled = sim.call(books)
        run.detail.update(placed=placed, cancelled=cancelled)
        run.ok = run.ok and placed == sizes.orders and cancelled == sizes.orders

    run = _run("orders", sizes, spec, check, 300 / sizes.time_scale + 60)
    d = run.detail
    _append(report, minimum, run,
            f"{d.get('answered', 0)}/{sizes.orders} acknowledged, {d.get('placed', '?')} at "
            f"the sim, {d.get('cancelled', '?')} cancelled (no questions on the socket API)")
    report.elapsed_s += time.perf_counter() - started
    return report


