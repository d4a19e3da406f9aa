"""What every OMS step shares: the journal, the broker, the clock, the holds and the writer.

Why one object: the steps (intake, submit, in-doubt, apply, reconcile, commands) are small
modules with one job each; they need the same handful of collaborators and the same single
writer lock, and passing one context keeps their signatures honest.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from catalyst_ibkr.core.clock import Clock
from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.risk import RiskEngine
from catalyst_ibkr.ports.broker import Broker, SessionHealth
from catalyst_ibkr.service.events import EventNotifier
from catalyst_ibkr.service.journal import Journal
from catalyst_ibkr.service.journal.store import EventDraft
from catalyst_ibkr.service.metrics import OmsMetrics
from catalyst_ibkr.service.oms.risk_inputs import RiskInputs
from catalyst_ibkr.service.positions import PositionManager

__all__ = ["Budgets", "OmsContext"]

log = logging.getLogger("catalyst_ibkr.oms")


@dataclass(frozen=True, slots=True)
class Budgets:
    """Timing policy (seconds). See docs/oms.md "In-doubt policy and budgets"."""

    in_doubt_budget_s: float = 30.0
    in_doubt_poll_s: float = 2.0
    reconcile_interval_s: float = 30.0
    lease_s: float = 30.0
    max_sends: int = 3  # the first send plus at most two resends with the same cOID
    kill_rounds: int = 5

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s)


@dataclass
class OmsContext:
    journal: Journal
    broker: Broker
    clock: Clock
    risk: RiskEngine
    budgets: Budgets
    metrics: OmsMetrics
    dry_run: bool = False
    owner: str = field(default_factory=lambda: f"oms-{uuid.uuid4().hex[:12]}")
    writer: asyncio.Lock = field(default_factory=asyncio.Lock)
    notifier: EventNotifier = field(default_factory=EventNotifier)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    #: set with ``wake`` when the next iteration must be a full one (health, reconcile,
    #: in-flight orders) rather than only the signal pass; see ``Oms._loop``.
    full_pass_wanted: bool = False
    #: reason key -> human text; anything here means "send nothing" (broker-outage hold).
    holds: dict[str, str] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    quotes: dict[ConId, Quote] = field(default_factory=dict)
    #: cOIDs this process is sending right now (their lease is ours; skip them elsewhere).
    sending: set[str] = field(default_factory=set)
    #: order_ref -> when the in-doubt resolver may look again.
    next_check: dict[str, datetime] = field(default_factory=dict)
    last_reconciliation_at: datetime | None = None
    #: when the held positions were last quoted for their marks (oms/marks.py)
    marks_refreshed_at: datetime | None = None
    #: conid -> quantity, from the last successful reconciliation.
    broker_positions: dict[int, Decimal] = field(default_factory=dict)
    last_health: SessionHealth | None = None
    startup_complete: bool = False
    #: what risk derived from each journaled order, per order version
    risk_inputs: RiskInputs = field(default_factory=RiskInputs)

    #: positions from the journal's fills (one instance: it keeps the last book it built)
    positions: PositionManager = field(init=False)

    def __post_init__(self) -> None:
        self.positions = PositionManager(self.journal)

    def now(self) -> datetime:
        return self.clock.now()

    def wake_full(self) -> None:
        """Wake the loop for a full iteration (a new signal only needs the signal pass)."""
        self.full_pass_wanted = True
        self.wake.set()

    def hold(self, key: str, reason: str) -> None:
        if key in ("session", "broker") and key not in self.holds:
            self.alert(f"broker_{key}", f"sending stopped: {reason}")
        if self.holds.get(key) != reason:
            self.holds[key] = reason
            log.warning("hold raised: %s: %s", key, reason)
            self.emit([EventDraft("health", {"hold": key, "raised": True, "reason": reason})])
        self.metrics.holds.set(len(self.holds))

    def release(self, key: str) -> None:
        if self.holds.pop(key, None) is not None:
            log.info("hold released: %s", key)
            self.emit([EventDraft("health", {"hold": key, "raised": False})])
        self.metrics.holds.set(len(self.holds))

    @property
    def held(self) -> bool:
        return bool(self.holds)

    @property
    def hold_reason(self) -> str | None:
        if not self.holds:
            return None
        return "; ".join(f"{k}: {v}" for k, v in sorted(self.holds.items()))

    def emit(self, events: Sequence[EventDraft]) -> None:
        """Journal events that accompany no other write (others commit with their change)."""
        if events:
            self.journal.append_events(self.now(), events)
            self.notifier.notify()

    def alert(self, kind: str, message: str, **data: object) -> None:
        log.error("ALERT %s: %s", kind, message)
        payload: Mapping[str, object] = {"alert": kind, "message": message, **data}
        self.metrics.alerts.labels(kind).inc()
        self.emit([EventDraft("alert", payload)])
