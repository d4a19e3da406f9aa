"""What the service shows: frozen snapshots of plain values (Decimal, datetime, str).

Why separate view types instead of handing out domain objects: the API turns these into
JSON, and a view can never be used to mutate an order behind the single writer's back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = [
    "AccountView",
    "CommandView",
    "FillView",
    "HealthView",
    "KillReport",
    "OrderView",
    "PositionView",
    "QuestionView",
    "RiskView",
    "ServiceEvent",
    "SignalView",
]


@dataclass(frozen=True, slots=True)
class FillView:
    execution_id: str
    client_order_id: str | None
    broker_order_id: str | None
    symbol: str
    conid: int
    side: str
    quantity: Decimal
    price: Decimal
    time: datetime
    commission: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QuestionView:
    """An order-reply question IBKR asked, and what we answered (None: not answered)."""

    client_order_id: str
    message_id: str | None
    text: str
    answer: bool | None
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order. `order_ref` is how to name it in cancel/modify: the cOID, or for an
    external order (no cOID) the broker's order id."""

    order_ref: str
    client_order_id: str | None
    broker_order_id: str | None
    signal_id: str | None
    parent_id: str | None
    symbol: str
    conid: int
    side: str
    quantity: Decimal
    order_type: str
    tif: str
    status: str
    filled_quantity: Decimal
    created_at: datetime
    updated_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    avg_fill_price: Decimal | None = None
    external: bool = False
    reason: str | None = None
    broker_status: str | None = None


@dataclass(frozen=True, slots=True)
class SignalView:
    """A signal and what became of it. `status` uses interfaces.md's vocabulary."""

    id: str
    status: str
    received_at: datetime
    expires_at: datetime
    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    client_order_id: str
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    strategy: str | None = None
    risk_decision: str | None = None  # "ALLOWED", "DENIED" or None (not decided yet)
    reason_code: str | None = None
    reason: str | None = None
    broker_order_id: str | None = None
    filled_quantity: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    fills: tuple[FillView, ...] = ()
    questions: tuple[QuestionView, ...] = ()
    orders: tuple[OrderView, ...] = ()  # the parent first, then bracket children


@dataclass(frozen=True, slots=True)
class CommandView:
    """The result of a cancel / modify / cancel-all.

    status: ACCEPTED (the broker took it; watch the order for the effect), REJECTED (the
    broker refused; `detail` says why), PENDING (outcome unknown: left pending until
    reconciliation finds evidence; never retried blind), DENIED (our risk refused it; no
    broker call).
    """

    command: str
    status: str
    order_ref: str | None = None
    detail: str = ""
    reason_code: str | None = None
    orders: tuple[OrderView, ...] = ()


@dataclass(frozen=True, slots=True)
class KillReport:
    """What `kill` did: HALTED set, cancel-all sent, and whether reconciliation verified
    that no working order remains at the broker."""

    trading_state: str
    cancel_status: str  # ACCEPTED / REJECTED / PENDING / NOT_SENT
    verified: bool
    remaining: tuple[OrderView, ...]
    started_at: datetime
    finished_at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PositionView:
    """A position from our fills, beside what the broker last reported for it."""

    conid: int
    symbol: str
    quantity: Decimal
    avg_price: Decimal | None
    realized_pnl: Decimal
    broker_quantity: Decimal | None = None  # None: not reported (yet)
    drift: bool = False
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    #: the time of the quote `mark_price` comes from (refreshed once per reconciliation
    #: interval): how old the mark, and so the unrealized P&L, is
    mark_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountView:
    """The broker's account summary (None fields: not known) and our P&L from fills."""

    account: str | None
    currency: str | None
    net_liquidation: Decimal | None
    buying_power: Decimal | None
    cash: Decimal | None
    as_of: datetime | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RiskView:
    """Limits, the operator trading state, the broker-outage hold and current usage."""

    trading_state: str
    trading_state_changed_by: str | None
    trading_state_changed_at: datetime | None
    broker_hold: bool
    hold_reasons: tuple[str, ...]
    limits: Mapping[str, str]
    open_orders: int
    in_doubt_orders: int
    working_notional: Decimal
    gross_exposure: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class HealthView:
    """Liveness (`ok`) and, with `ready`, whether signals would be sent right now."""

    ok: bool
    ready: bool
    startup_complete: bool
    broker_connected: bool | None
    broker_authenticated: bool | None
    broker_detail: str
    trading_state: str
    hold_reasons: tuple[str, ...]
    last_reconciliation_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """One journaled event, numbered monotonically (the SSE id; resume after it).

    kind: "signal", "order", "fill", "health", "risk", "alert", "reconciliation".
    `data` holds JSON-ready plain values (str, int, bool, None, lists/dicts of them);
    decimals are strings.
    """

    id: int
    kind: str
    at: datetime
    data: Mapping[str, object] = field(default_factory=dict)
