"""Workloads (1)-(3) on the Client Portal Web API: every peer on its own fresh simulator.

Each workload prepares its simulator without sending a single counted API request (set-up
runs on the simulator's loop via ``ThreadedSim.call``), runs one peer in a child process
(``bench.harness``), then checks the outcome in the simulator's own books, so a client that
claims success without it cannot pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from ibkr_sim.engine.types import OrderTicket
from ibkr_sim.server import ThreadedSim
from ibkr_sim.universe import Universe

from .harness import REPO, PeerRun, SimSpec, progress, run_peer, start_sim
from .minimums import Minimum, dashboard_minimum, orders_minimum, quotes_minimum
from .report_model import Goal, Table, WorkloadReport

__all__ = ["PEERS", "Peer", "Sizes", "run_dashboard", "run_orders", "run_quotes", "seed_plan"]

GOAL_RATIO = 1.2


@dataclass(frozen=True)
class Peer:
    name: str
    module: str
    label: str
    #: None = available; otherwise why it is skipped
    unavailable: Callable[[], str | None]
    extra: tuple[tuple[str, Any], ...] = ()
    #: None: every workload; else only these
    workloads: frozenset[str] | None = None


def seed_plan() -> Path:
    return REPO.parent / "shared" / "seed" / "ibeam-plan.md"


def _seed_missing() -> str | None:
    plan = seed_plan()
    return None if plan.is_file() else f"../shared is absent ({plan} not found)"


def _ibind_missing() -> str | None:
    try:
        import ibind  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return "ibind is not installed: .venv/bin/pip install -e '.[dev]'"
    return None


PEERS: tuple[Peer, ...] = (
    Peer("ours", "bench.drivers.ours",
         "catalyst-ibkr WebApiBroker, cold (new pacing log)", lambda: None),
    Peer("ours-warm", "bench.drivers.ours",
         "catalyst-ibkr WebApiBroker, warm (pacing log of a running service)", lambda: None,
         (("warm_pacing", True),)),
    Peer("ours-answer", "bench.drivers.ours",
         "catalyst-ibkr WebApiBroker, warm, suppression off (answers every question)",
         lambda: None, (("warm_pacing", True), ("suppress", False)),
         frozenset({"orders"})),
    Peer("ibind", "bench.drivers.ibind_peer", "ibind", _ibind_missing),
    Peer("seed", "bench.drivers.seed_peer", "seed IBKRClient (requests)", _seed_missing),
)


@dataclass(frozen=True)
class Sizes:
    symbols: int = 500
    orders: int = 100
    dashboard_s: float = 60.0
    positions: int = 250
    time_scale: float = 1.0


def sweep_symbols(count: int) -> list[str]:
    """The first ``count`` S&P 500 stocks of the simulator's universe, by symbol."""
    stocks = sorted((i for i in Universe.load().all() if i.sp500 and not i.is_etf),
                    key=lambda i: i.symbol)
    if len(stocks) < count:
        raise ValueError(f"the universe has only {len(stocks)} S&P 500 stocks")
    return [i.symbol for i in stocks[:count]]


def _fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f} s"


def _result_text(run: PeerRun, success: str) -> str:
    if run.skipped:
        return f"skipped: {run.skipped}"
    if run.penalty_boxed:
        return f"**penalty box after {run.stopped_after} requests** (stopped)"
    if run.failure:
        text = run.failure if len(run.failure) <= 160 else run.failure[:157] + "..."
        return f"failed: {text}"
    return success if run.ok else f"incomplete: {success}"


def _row(run: PeerRun, label: str, ratio: str, success: str) -> list[str]:
    if run.skipped and run.wall_s is None:
        return [label, "-", "-", "-", "-", f"skipped: {run.skipped}"]
    return [label, _fmt_s(run.wall_s), str(run.requests), str(run.rate_limited), ratio,
            _result_text(run, success)]


COLUMNS = ["Client", "Wall time", "Requests sent", "429s", "vs minimum", "Result"]


def _each_peer(
    title: str,
    sizes: Sizes,
    build_spec: Callable[[ThreadedSim], dict[str, Any]],
    check: Callable[[ThreadedSim, PeerRun], None],
    timeout_s: float,
    only_peers: frozenset[str] | None,
) -> list[tuple[Peer, PeerRun]]:
    out: list[tuple[Peer, PeerRun]] = []
    for peer in PEERS:
        if only_peers and peer.name not in only_peers:
            continue
        if peer.workloads is not None and title not in peer.workloads:
            continue
        why = peer.unavailable()
        if why is not None:
            progress(f"{title}: {peer.name} skipped ({why})")
            out.append((peer, PeerRun(peer.name, skipped=why)))
            continue
        progress(f"{title}: {peer.name} on a fresh simulator (time scale {sizes.time_scale:g})")
        sim = start_sim(SimSpec(time_scale=sizes.time_scale))
        try:
            spec = {**build_spec(sim), **dict(peer.extra)}
            run = run_peer(peer.name, peer.module, spec, sim, timeout_s=timeout_s)
            if not run.penalty_boxed and not run.failure:
                check(sim, run)
        finally:
            sim.stop()
        progress(f"{title}: {peer.name} -> {_fmt_s(run.wall_s)}, {run.requests} requests, "
                 f"{run.rate_limited} x 429" + (f", {run.failure}" if run.failure else ""))
        out.append((peer, run))
    return out


def mix_notes(runs: list[tuple[Peer, PeerRun]]) -> list[str]:
    """What each client actually sent, so the distance to the minimum explains itself."""
    out = []
    for peer, run in runs:
        if not run.mix:
            continue
        parts = ", ".join(f"{path} x{n}" for path, n in sorted(run.mix.items(),
                                                                key=lambda kv: -kv[1]))
        out.append(f"{peer.label} sent: {parts}")
    return out


def _ours_goals(runs: list[tuple[Peer, PeerRun]],
                ratio_of: Callable[[PeerRun], float | None]) -> list[Goal]:
    goals = []
    for peer, run in runs:
        if not peer.name.startswith("ours"):
            continue
        text = f"{peer.label}: within {GOAL_RATIO}x of the minimum with zero 429s"
        ratio = ratio_of(run)
        met = run.ok and run.rate_limited == 0 and ratio is not None and ratio <= GOAL_RATIO
        goals.append(Goal(text + (f": measured {ratio:.2f}x, {run.rate_limited} x 429"
                                  if ratio is not None else ": not measured"), met))
    return goals


def _minimum_lines(minimum: Minimum, time_scale: float) -> list[str]:
    scaled = "" if time_scale == 1 else f" (time scale {time_scale:g}: divided by it)"
    return [minimum.derivation,
            f"minimum: **{minimum.requests} requests, {minimum.seconds:.2f} s**{scaled}"]


# -- notes kept across regenerations (what changed in our adapter, and what is left) ----------

QUOTES_HISTORY = [
    "History of our row (perf-adapter, 2026-11-25, `.venv/bin/python -m bench --only quotes "
    "--peer ours --peer ours-warm`): before, 23 requests and 3.58x cold / 2.52x warm (10 "
    "/trsrv/stocks requests of 50 symbols, a question suppression at start-up, and a new "
    "pacing log waited one global window); after, 13 requests and 1.41-1.69x cold / "
    "1.40-1.53x warm over six runs at load average 4-7 on 2 cores (one /trsrv/stocks request, no "
    "suppression without an order, no cold-start wait on the global scope).",
    "Then (2026-11-25, same command, idle machine): the simulator stopped walking the day's "
    "high/low price grid for every first quote (a first read of 100 conids went from ~120 ms "
    "to ~13 ms; the sweep asks for last, bid and ask only), and our row measured 1.17-1.19x "
    "cold and warm over three runs.",
    "What is left between our row and the minimum: issue 5's margin (95 % of each limit plus "
    "a 50 ms guard) lets the 11th request go ~1.10 s after the first answer, and 3 of our 13 "
    "requests (the start-up tickle, our session check, is the one the minimum does not count) "
    "fall after that line, so about 1.15x is the floor for a client with that margin; on a "
    "loaded machine the simulator's answers can still push the row past 1.2x.",
]

ORDERS_HISTORY = [
    "History of our row (perf-adapter, 2026-11-25, `.venv/bin/python -m bench --only orders "
    "--peer ours --peer ours-warm`): before, 205 requests and 2.90x cold / 2.78x warm "
    "(cancel all read the live orders, two calls 5 s apart for the pre-flight, then sent one "
    "DELETE per order); after, 104 requests and 1.12-1.13x cold and warm over two runs (one "
    "DELETE of order -1; the service's kill switch verifies through reconciliation). The "
    "answer-every-question row went from 5.07x to 3.35x with the same change; it needs 302 "
    "requests against the suppression minimum of 103, so 1.2x is out of its reach by design.",
]


# -- (1) cold quote sweep ----------------------------------------------------------------------

def run_quotes(sizes: Sizes, only_peers: frozenset[str] | None = None) -> WorkloadReport:
    started = time.perf_counter()
    symbols = sweep_symbols(sizes.symbols)
    minimum = quotes_minimum(len(symbols), sizes.time_scale)

    def spec(sim: ThreadedSim) -> dict[str, Any]:
        return {"workload": "quotes", "symbols": symbols, "time_scale": sizes.time_scale,
                "seed_plan": str(seed_plan())}

    def check(sim: ThreadedSim, run: PeerRun) -> None:
        run.ok = run.ok and run.detail.get("quoted") == len(symbols)

    runs = _each_peer("quotes", sizes, spec, check, 600 / sizes.time_scale + 60, only_peers)

    def ratio(run: PeerRun) -> float | None:
        if not run.ok or run.wall_s is None or minimum.seconds <= 0:
            return None
        return run.wall_s / minimum.seconds

    table = Table(COLUMNS)
    for peer, run in runs:
        r = ratio(run)
        quoted = run.detail.get("quoted")
        table.rows.append(_row(run, peer.label, f"{r:.2f}x" if r else "-",
                               f"{quoted}/{len(symbols)} quotes with last, bid, ask"))
    return WorkloadReport(
        "quotes", "(1) Cold quote sweep",
        f"{len(symbols)} S&P 500 symbols -> conids -> snapshots with last (31), bid (84) and "
        "ask (86) present, on a brokerage session that has opened no market-data stream yet.",
        tables=[table], minimum=_minimum_lines(minimum, sizes.time_scale),
        goals=_ours_goals(runs, ratio), notes=[*mix_notes(runs), *QUOTES_HISTORY],
        elapsed_s=time.perf_counter() - started,
    )


# -- (2) orders with a question each, then cancel all ------------------------------------------

def run_orders(sizes: Sizes, only_peers: frozenset[str] | None = None) -> WorkloadReport:
    started = time.perf_counter()
    symbols = sweep_symbols(sizes.orders)
    minimum = orders_minimum(sizes.orders, sizes.time_scale)

    def spec(sim: ThreadedSim) -> dict[str, Any]:
        state = sim.state

        def prices() -> list[dict[str, Any]]:
            out = []
            for symbol in symbols:
                inst = state.universe.by_symbol(symbol)[0]
                last = state.market.quote(inst.conid).last
                # 15 % under the market: passive (never fills) and far beyond the 3 %
                # Percentage constraint, so IBKR asks o163 (and o10153) every time
                limit = (last * Decimal("0.85")).quantize(Decimal("0.01"), ROUND_DOWN)
                out.append({"conid": inst.conid, "symbol": symbol, "price": str(limit)})
            return out

        return {"workload": "orders", "orders": sim.call(prices),
                "time_scale": sizes.time_scale, "seed_plan": str(seed_plan())}

    def check(sim: ThreadedSim, run: PeerRun) -> None:
        def books() -> tuple[int, int]:
            orders = sim.state.engine.orders(sim.state.account_id)
            return len(orders), sum(1 for o in orders if o.status == "Cancelled")

        placed, cancelled = sim.call(books)
        run.detail.update(placed=placed, cancelled=cancelled)
        run.ok = (run.ok and run.detail.get("answered") == sizes.orders
                  and placed == sizes.orders and cancelled == sizes.orders)

    runs = _each_peer("orders", sizes, spec, check, 900 / sizes.time_scale + 60, only_peers)

    def ratio(run: PeerRun) -> float | None:
        if not run.ok or run.wall_s is None or minimum.seconds <= 0:
            return None
        return run.wall_s / minimum.seconds

    table = Table(COLUMNS)
    for peer, run in runs:
        r = ratio(run)
        d = run.detail
        table.rows.append(_row(
            run, peer.label, f"{r:.2f}x" if r else "-",
            f"{d.get('answered', 0)}/{sizes.orders} answered, {d.get('placed', '?')} at the "
            f"sim, {d.get('cancelled', '?')} cancelled"))
    return WorkloadReport(
        "orders", "(2) Limit orders with an o163 question each, then cancel all",
        f"{sizes.orders} BUY 1 LMT DAY orders, each 15 % under the market, so the gateway asks "
        "o163 (Percentage constraint) and o10153 (Mandatory Cap Price) before accepting; then "
        "one cancel-all. A client may answer each question or suppress the two ids for the "
        "session (both are IBKR's documented ways to say yes); our adapter suppresses the "
        "ids its [questions] confirm list allows, the extra row shows it answering instead.",
        tables=[table], minimum=_minimum_lines(minimum, sizes.time_scale),
        goals=_ours_goals(runs, ratio),
        notes=["Verified in the simulator's book: every order exists and ends Cancelled.",
               *mix_notes(runs), *ORDERS_HISTORY],
        elapsed_s=time.perf_counter() - started,
    )


# -- (3) dashboard refresh for one minute ------------------------------------------------------

def _seed_positions(sim: ThreadedSim, count: int) -> None:
    """``count`` one-share positions (several pages of 100), made inside the engine."""
    symbols = sweep_symbols(count)

    def fill() -> int:
        state = sim.state
        for symbol in symbols:
            inst = state.universe.by_symbol(symbol)[0]
            state.engine.submit(OrderTicket(account=state.account_id, conid=inst.conid,
                                            side="BUY", order_type="MKT",
                                            quantity=Decimal(1)))
        state.step()
        return len(state.engine.positions(state.account_id))

    held = sim.call(fill)
    if held != count:
        raise RuntimeError(f"set-up made {held} positions, wanted {count}")


def run_dashboard(sizes: Sizes, only_peers: frozenset[str] | None = None) -> WorkloadReport:
    started = time.perf_counter()
    pages = sizes.positions // 100 + 1  # a short last page tells a client it was the last
    minimum = dashboard_minimum(sizes.dashboard_s, pages, sizes.time_scale)
    duration = sizes.dashboard_s / sizes.time_scale

    def spec(sim: ThreadedSim) -> dict[str, Any]:
        _seed_positions(sim, sizes.positions)
        return {"workload": "dashboard", "duration_s": duration,
                "time_scale": sizes.time_scale, "seed_plan": str(seed_plan())}

    def check(sim: ThreadedSim, run: PeerRun) -> None:
        run.ok = run.ok and int(run.detail.get("refreshes", 0)) > 0

    runs = _each_peer("dashboard", sizes, spec, check, duration + 120, only_peers)
    best = minimum.refreshes or 1

    def ratio(run: PeerRun) -> float | None:
        done = int(run.detail.get("refreshes", 0))
        if not run.ok or done <= 0:
            return None
        return best / done

    table = Table(["Client", "Wall time", "Requests sent", "429s", "Refreshes",
                   "vs minimum", "Result"])
    for peer, run in runs:
        r = ratio(run)
        base = _row(run, peer.label, f"{r:.2f}x" if r else "-",
                    f"{run.detail.get('refreshes', 0)} full refreshes"
                    + (f" ({run.detail['note']})" if run.detail.get("note") else ""))
        base.insert(4, str(run.detail.get("refreshes", "-")))
        table.rows.append(base)
    return WorkloadReport(
        "dashboard", "(3) Dashboard portfolio refresh for one minute",
        f"Back-to-back refreshes for {sizes.dashboard_s:g} s: /portfolio/accounts, summary, "
        f"positions over {pages} pages ({sizes.positions} positions, 100 per page), live "
        "orders, trades. 'vs minimum' = most refreshes that fit / refreshes done.",
        tables=[table], minimum=[*_minimum_lines(minimum, sizes.time_scale),
                                         f"best possible: **{best} refreshes**"],
        goals=_ours_goals(runs, ratio), notes=mix_notes(runs),
        elapsed_s=time.perf_counter() - started,
    )
