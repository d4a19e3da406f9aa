"""Everything one simulator instance knows, in one object the routes share.

The engine (market, orders, fills, portfolio) is owned by ``ibkr_sim.engine``; this object
adds the gateway-side state the engine must not know about: the login session, pacing,
faults, and the per-brokerage-session memory of the Client Portal API (the ``/accounts``
warm-up, snapshot pre-flight, live-orders priming, question suppression, pending replies).
Per-session memory is keyed by the session machine's ``generation``, so a new brokerage
session forgets it exactly as the real gateway does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ibkr_sim.clock import SimClock
from ibkr_sim.engine import OrderTicket, SimEngine
from ibkr_sim.engine.snapshot import PersistentBook
from ibkr_sim.faults import FaultBook
from ibkr_sim.market import Market
from ibkr_sim.options import SimOptions
from ibkr_sim.pacing import Pacer
from ibkr_sim.questions import Question
from ibkr_sim.session import SessionMachine
from ibkr_sim.universe import Instrument, Universe

__all__ = ["BrokerageMemory", "PendingReply", "SimState"]


@dataclass
class BrokerageMemory:
    """What the gateway remembers for one brokerage session."""

    generation: int
    accounts_warmed: bool = False
    preflight: dict[int, set[str]] = field(default_factory=dict)
    server_ids: dict[int, str] = field(default_factory=dict)
    orders_primed: bool = False
    suppressed: set[str] = field(default_factory=set)

    def server_id(self, conid: int) -> str:
        return self.server_ids.setdefault(conid, f"q{len(self.server_ids)}")


@dataclass
class PendingReply:
    """An order waiting for the answer to ``question``; ``later`` are asked next."""

    reply_id: str
    tickets: list[OrderTicket]
    question: Question
    later: list[Question]
    generation: int
    on_confirm: Callable[[], Any] | None = None
    """Run instead of submitting ``tickets`` once every question is answered (a modify)."""


class SimState:
    """The simulator: engine plus gateway state. Used from one event loop only."""

    def __init__(self, options: SimOptions, *, universe: Universe | None = None) -> None:
        self.options = options
        self.clock = SimClock(time_scale=options.time_scale)
        self.universe = universe if universe is not None else Universe.load()
        self.market = Market(
            self.universe, self.clock, seed=options.seed, market_hours=options.market_hours
        )
        self.engine = SimEngine(
            clock=self.clock,
            universe=self.universe,
            market=self.market,
            account_id=options.account_id,
            seed=options.seed,
        )
        self.book_file: PersistentBook | None = None
        if options.persist_path is not None:  # raises SnapshotError for an unusable file
            self.book_file = PersistentBook(
                self.engine, options.persist_path, options.persist_debounce_s
            )
        self.session = SessionMachine(
            self.clock,
            idle_timeout_s=options.idle_timeout_s,
            relogin_s=options.relogin_s,
            competing_grace_s=options.competing_grace_s,
            daily_reset=options.daily_reset,
        )
        self.pacer = Pacer(
            self.clock.monotonic, enabled=options.pacing, penalty_s=options.penalty_s
        )
        self.faults = FaultBook()
        self.unentitled: set[int] = set()
        self.pending: dict[str, PendingReply] = {}
        self.invalidated: set[str] = set()
        self._memory = BrokerageMemory(generation=self.session.generation)

    @property
    def account_id(self) -> str:
        return self.options.account_id

    def memory(self) -> BrokerageMemory:
        """The current brokerage session's memory (fresh after any new session)."""
        if self._memory.generation != self.session.generation:
            self._memory = BrokerageMemory(generation=self.session.generation)
        return self._memory

    def step(self) -> None:
        """Let due timers fire and working orders meet the market at the current sim time."""
        self.session.observe()
        self.engine.step()
        if self.book_file is not None:
            self.book_file.maybe_save()

    def reset(self) -> None:
        """``POST /sim/reset``: back to the start state (clock, book, session, stats, faults)."""
        self.clock.reset()
        self.market.reset()
        self.engine.reset()
        self.session.reset()
        self.pacer.reset()
        self.faults.clear()
        self.unentitled.clear()
        self.pending.clear()
        self.invalidated.clear()
        self._memory = BrokerageMemory(generation=self.session.generation)
        if self.book_file is not None:  # the file holds the fresh book (ids keep increasing)
            self.book_file.save()

    def save_book(self) -> None:
        """Write the persistent book now (on stop), when ``--persist`` is on."""
        if self.book_file is not None:
            self.book_file.save()

    def invalidate_pending_replies(self) -> None:
        """Any request other than a reply discards the orders waiting for an answer."""
        if self.pending:
            self.invalidated.update(self.pending)
            self.pending.clear()

    def instrument(self, conid: int) -> Instrument | None:
        return self.universe.by_conid(conid)

    def last_price(self, conid: int) -> Decimal | None:
        if self.universe.by_conid(conid) is None:
            return None
        return self.market.quote(conid).last

    def entitled(self, conid: int) -> bool:
        return conid not in self.unentitled
