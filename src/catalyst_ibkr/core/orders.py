"""The Order aggregate: one order's identity, its lifecycle and its fills.

Why an aggregate with methods rather than free functions: every change to an order must go
through the transition table (``order_fsm.py``), record when it happened, and leave the order
untouched when refused. Methods that validate first and mutate last give that for free. The
OMS applies all events through one writer (reliability C35), so the class is not thread-safe
and does not need to be.

Fills are keyed by execution id: applying the same execution again returns False and changes
nothing (TWS replays ``execDetails`` on reconnect; reliability C33). A fill that would exceed
the order quantity raises :class:`OverfillError` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.errors import FillMismatch, IllegalTransition, InvalidInput, OverfillError
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import (
    AccountId,
    BrokerOrderId,
    ClientOrderId,
    ConId,
    ExecutionId,
    SignalId,
    StrategyId,
)
from catalyst_ibkr.core.instruments import validate_symbol
from catalyst_ibkr.core.money import ensure_aware_utc, parse_decimal
from catalyst_ibkr.core.order_fsm import (
    TRANSITIONS,
    OrderStatus,
    OrderTransition,
    OrderTrigger,
    next_status,
)
from catalyst_ibkr.core.status_maps import report_trigger

__all__ = [
    "TRANSITIONS",
    "ModifyRequest",
    "Order",
    "OrderStatus",
    "OrderTransition",
    "OrderTrigger",
]

_FROM_BROKER = frozenset(OrderTrigger) - {
    OrderTrigger.DENY,
    OrderTrigger.SUBMIT,
    OrderTrigger.REQUEST_CANCEL,
    OrderTrigger.REQUEST_MODIFY,
    OrderTrigger.EXPIRE,
}


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    """The change asked for while PENDING_MODIFY; None fields stay as they are."""

    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


@dataclass(eq=False)
class Order:
    """An order we intend to send, have sent, or learned about from IBKR."""

    client_order_id: ClientOrderId
    signal_id: SignalId | None
    conid: ConId
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    created_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    outside_rth: bool = False
    strategy: StrategyId | None = None
    account: AccountId | None = None
    parent_id: ClientOrderId | None = None

    status: OrderStatus = field(default=OrderStatus.INITIALIZED, init=False)
    broker_order_id: BrokerOrderId | None = field(default=None, init=False)
    broker_status: str | None = field(default=None, init=False)
    reason: str | None = field(default=None, init=False)
    filled_quantity: Decimal = field(default=Decimal(0), init=False)
    pending_modify: ModifyRequest | None = field(default=None, init=False)
    history: list[OrderTransition] = field(default_factory=list, init=False)
    was_sent: bool = field(default=False, init=False)
    _fills: dict[ExecutionId, Fill] = field(default_factory=dict, init=False, repr=False)
    _filled_value: Decimal = field(default=Decimal(0), init=False, repr=False)

    def __post_init__(self) -> None:
        self.conid = ConId(self.conid)
        self.symbol = validate_symbol(self.symbol)
        self.quantity = parse_decimal(self.quantity, "quantity", positive=True)
        self.created_at = ensure_aware_utc(self.created_at, "created_at")
        for name, needed in (
            ("limit_price", self.order_type.needs_limit_price),
            ("stop_price", self.order_type.needs_stop_price),
        ):
            value = getattr(self, name)
            if needed and value is None:
                raise InvalidInput(name, f"is required for order_type {self.order_type}")
            if not needed and value is not None:
                raise InvalidInput(name, f"must be omitted for order_type {self.order_type}")
            if value is not None:
                setattr(self, name, parse_decimal(value, name, positive=True))

    # -- predicates ---------------------------------------------------------------------------

    @property
    def is_working(self) -> bool:
        """Live at IBKR (SUBMITTED, PARTIALLY_FILLED, PENDING_CANCEL, PENDING_MODIFY)."""
        return self.status.is_working

    @property
    def is_in_flight(self) -> bool:
        """Sent or being sent without a definitive answer (PENDING_SUBMIT, IN_DOUBT)."""
        return self.status.is_in_flight

    @property
    def is_open(self) -> bool:
        """Counts against every limit: working or in flight (reliability A6)."""
        return self.is_working or self.is_in_flight

    @property
    def is_closed(self) -> bool:
        return self.status.is_closed

    @property
    def leaves_quantity(self) -> Decimal:
        """Quantity that may still fill: zero once closed."""
        return Decimal(0) if self.is_closed else self.quantity - self.filled_quantity

    @property
    def avg_fill_price(self) -> Decimal | None:
        if self.filled_quantity == 0:
            return None
        return self._filled_value / self.filled_quantity

    @property
    def fills(self) -> tuple[Fill, ...]:
        return tuple(self._fills.values())

    @property
    def signal_status(self) -> str:
        """The status word of ``GET /v1/signals/{id}`` (interfaces.md's status values)."""
        if self.status is OrderStatus.INITIALIZED:
            return "RECEIVED"
        if self.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_MODIFY):
            return "PARTIALLY_FILLED" if self.filled_quantity > 0 else "SUBMITTED"
        return self.status.value

    # -- our own decisions ---------------------------------------------------------------------

    def deny(self, reason: str, at: datetime) -> None:
        self._apply(OrderTrigger.DENY, at, reason)
        self.reason = reason

    def mark_submitting(self, at: datetime) -> None:
        """Journaled and about to be sent (also for a resend with the same cOID)."""
        self._apply(OrderTrigger.SUBMIT, at)

    def mark_in_doubt(self, at: datetime, detail: str = "") -> None:
        """The send's outcome is unknown; only reconciliation or a late answer moves it on."""
        self._apply(OrderTrigger.OUTCOME_UNKNOWN, at, detail)

    def request_cancel(self, at: datetime) -> None:
        self._apply(OrderTrigger.REQUEST_CANCEL, at)

    def request_modify(self, change: ModifyRequest, at: datetime) -> None:
        """Ask for a new quantity and/or price; the quantity may not drop to or below the fills."""
        if change.quantity is not None:
            quantity = parse_decimal(change.quantity, "quantity", positive=True)
            if quantity <= self.filled_quantity:
                raise InvalidInput(
                    "quantity",
                    f"must exceed the filled quantity {self.filled_quantity}; cancel instead",
                )
        if change.limit_price is not None and not self.order_type.needs_limit_price:
            raise InvalidInput("limit_price", f"cannot be set on a {self.order_type} order")
        if change.stop_price is not None and not self.order_type.needs_stop_price:
            raise InvalidInput("stop_price", f"cannot be set on a {self.order_type} order")
        self._apply(OrderTrigger.REQUEST_MODIFY, at)
        self.pending_modify = change

    def expire(self, at: datetime, detail: str = "") -> None:
        self._apply(OrderTrigger.EXPIRE, at, detail)

    def adopt(self, at: datetime, broker_order_id: BrokerOrderId | None = None) -> None:
        """Take over an order found at IBKR that we did not send (external, or a lost journal).

        Recorded as sent-then-accepted so later broker events are legal for it.
        """
        self._apply(OrderTrigger.SUBMIT, at, "adopted from the broker")
        self.accept(at, broker_order_id)

    def restore_state(
        self,
        *,
        status: OrderStatus,
        was_sent: bool,
        fills: Iterable[Fill] = (),
        broker_order_id: BrokerOrderId | None = None,
        broker_status: str | None = None,
        reason: str | None = None,
        pending_modify: ModifyRequest | None = None,
        history: Iterable[OrderTransition] = (),
    ) -> None:
        """Load a persisted order's state onto this freshly built one (journal -> memory).

        Checks what the state machine would have guaranteed, so a corrupt row fails loudly
        instead of becoming an order in a state nobody designed: fills unique and this
        order's, filled <= quantity, FILLED exactly when fully filled, a pending change only
        while PENDING_MODIFY, broker states only for a sent order.
        """
        if self.status is not OrderStatus.INITIALIZED or self.history or self._fills:
            raise IllegalTransition(str(self.client_order_id), self.status.value, "RESTORE")
        fills = tuple(fills)
        filled = sum((f.quantity for f in fills), Decimal(0))
        problems = []
        if len({f.execution_id for f in fills}) != len(fills):
            problems.append("an execution id appears twice")
        if any(f.conid != self.conid or f.side is not self.side for f in fills):
            problems.append("a fill is for another contract or side")
        if filled > self.quantity:
            problems.append(f"fills total {filled}, more than the quantity {self.quantity}")
        if (status is OrderStatus.FILLED) != (filled == self.quantity):
            problems.append(f"status {status} does not fit {filled} filled of {self.quantity}")
        if (pending_modify is not None) != (status is OrderStatus.PENDING_MODIFY):
            problems.append("a pending modify exists exactly while PENDING_MODIFY")
        never_sendable = status in (OrderStatus.INITIALIZED, OrderStatus.DENIED)
        if (was_sent and never_sendable) or (
            not was_sent and not never_sendable and (status is not OrderStatus.EXPIRED or fills)
        ):
            problems.append(f"status {status} does not fit was_sent={was_sent}")
        if problems:
            raise InvalidInput("order", "; ".join(problems))
        self.status = status
        self.was_sent = was_sent
        self.broker_order_id = broker_order_id
        self.broker_status = broker_status
        self.reason = reason
        self.pending_modify = pending_modify
        self.history = list(history)
        self._fills = {f.execution_id: f for f in fills}
        self.filled_quantity = filled
        self._filled_value = sum((f.quantity * f.price for f in fills), Decimal(0))

    # -- what IBKR told us ---------------------------------------------------------------------

    def accept(self, at: datetime, broker_order_id: BrokerOrderId | None = None) -> None:
        self._check_broker_id(broker_order_id)
        self._apply(OrderTrigger.ACCEPT, at)
        if broker_order_id is not None:
            self.broker_order_id = broker_order_id

    def reject(self, reason: str, at: datetime) -> None:
        self._apply(OrderTrigger.REJECT, at, reason)
        self.reason = reason

    def cancelled(self, at: datetime, detail: str = "") -> None:
        self._apply(OrderTrigger.CANCEL, at, detail)

    def cancel_rejected(self, reason: str, at: datetime) -> None:
        self._apply(OrderTrigger.CANCEL_REJECT, at, reason)

    def modify_accepted(self, at: datetime) -> None:
        change = self.pending_modify
        if (
            change is not None
            and change.quantity is not None
            and change.quantity < self.filled_quantity
        ):
            raise OverfillError(
                f"order {self.client_order_id}: modified quantity {change.quantity} is below "
                f"the filled {self.filled_quantity}"
            )
        self._apply(OrderTrigger.MODIFY_ACCEPT, at, modify=change)

    def modify_rejected(self, reason: str, at: datetime) -> None:
        self._apply(OrderTrigger.MODIFY_REJECT, at, reason)

    def apply_fill(self, fill: Fill) -> bool:
        """Record one execution. False (and no change) when the execution id was seen before."""
        known = self._fills.get(fill.execution_id)
        if known is not None:
            if _same_execution(known, fill):
                return False
            raise FillMismatch(
                f"order {self.client_order_id}: execution {fill.execution_id} replayed with "
                "different content; not applied"
            )
        if fill.conid != self.conid or fill.side is not self.side:
            raise FillMismatch(
                f"order {self.client_order_id} ({self.side} {self.conid}) cannot take a fill for "
                f"{fill.side} {fill.conid}"
            )
        if fill.client_order_id is not None and fill.client_order_id != self.client_order_id:
            raise FillMismatch(f"fill for {fill.client_order_id} applied to {self.client_order_id}")
        filled = self.filled_quantity + fill.quantity
        limit = self._fillable_quantity()
        if filled > limit:
            raise OverfillError(
                f"order {self.client_order_id}: fill {fill.execution_id} of {fill.quantity} would "
                f"make {filled} filled of {limit}; not applied"
            )
        if self.status is OrderStatus.PENDING_MODIFY and filled > self.quantity:
            # Only a larger modified quantity allows this fill: the fill proves the modify took.
            change = self.pending_modify
            self._apply(OrderTrigger.MODIFY_ACCEPT, fill.time, "implied by a fill", modify=change)
        trigger = OrderTrigger.FILL_FULL if filled == self.quantity else OrderTrigger.FILL_PARTIAL
        self._apply(
            trigger, fill.time, f"{fill.quantity} @ {fill.price} ({fill.execution_id})", filled
        )
        self._fills[fill.execution_id] = fill
        self.filled_quantity = filled
        self._filled_value += fill.quantity * fill.price
        if fill.broker_order_id is not None and self.broker_order_id is None:
            self.broker_order_id = fill.broker_order_id
        return True

    def apply_status_report(
        self, reported: OrderStatus, at: datetime, raw: str | None = None
    ) -> bool:
        """Apply a broker status (already mapped by ``status_maps``). True if anything changed.

        Reports carry no execution ids, so they never move the filled quantity: a "Filled"
        report only proves the order lives; the executions bring the fills. An unsuitable
        report raises :class:`IllegalTransition` (reconciliation then looks closer).
        """
        trigger = report_trigger(self.status, self.filled_quantity, reported)
        changed = False
        if trigger is not None:
            target = next_status(self.status, trigger)
            # A report that confirms what we know (every poll repeats "Submitted") is not an
            # event; recording it would bury the audit trail in repeats.
            same = target is self.status and (self.was_sent or trigger not in _FROM_BROKER)
            if not same:
                before = self.status
                self._apply(trigger, at, f"broker status {raw or reported}")
                changed = self.status is not before
        if raw is not None:
            self.broker_status = raw
        return changed

    # -- internals -----------------------------------------------------------------------------

    def _fillable_quantity(self) -> Decimal:
        change = self.pending_modify
        if self.status is OrderStatus.PENDING_MODIFY and change is not None and change.quantity:
            return max(self.quantity, change.quantity)
        return self.quantity

    def _check_broker_id(self, broker_order_id: BrokerOrderId | None) -> None:
        if (
            broker_order_id is not None
            and self.broker_order_id is not None
            and broker_order_id != self.broker_order_id
        ):
            raise FillMismatch(
                f"order {self.client_order_id} is IBKR order {self.broker_order_id}, "
                f"not {broker_order_id}"
            )

    def _apply(
        self,
        trigger: OrderTrigger,
        at: datetime,
        detail: str = "",
        filled_after: Decimal | None = None,
        modify: ModifyRequest | None = None,
    ) -> None:
        """The one place an order changes status: table lookup, then mutate, then record."""
        at = ensure_aware_utc(at, "at")
        target = next_status(self.status, trigger)
        if target is None or (trigger in _FROM_BROKER and not self.was_sent):
            raise IllegalTransition(str(self.client_order_id), self.status.value, trigger.value)
        before = self.status
        self.status = target
        self.was_sent = self.was_sent or trigger is OrderTrigger.SUBMIT
        if modify is not None:
            self.quantity = modify.quantity or self.quantity
            self.limit_price = modify.limit_price or self.limit_price
            self.stop_price = modify.stop_price or self.stop_price
        if target is not OrderStatus.PENDING_MODIFY:
            self.pending_modify = None  # an outstanding change dies with the PENDING_MODIFY state
        self._settle(filled_after)
        self.history.append(OrderTransition(at, trigger, before, self.status, detail))

    def _settle(self, filled: Decimal | None = None) -> None:
        """Working again with fills reads PARTIALLY_FILLED (keeps that rule out of the table)."""
        filled = self.filled_quantity if filled is None else filled
        if self.status is OrderStatus.SUBMITTED and filled > 0:
            self.status = OrderStatus.PARTIALLY_FILLED
        if self.status is OrderStatus.PARTIALLY_FILLED and filled >= self.quantity:
            self.status = OrderStatus.FILLED  # a modify down to exactly the filled quantity


def _same_execution(a: Fill, b: Fill) -> bool:
    """Same execution seen twice. Commission may arrive only on the replay (TWS sends it later)."""
    return (a.conid, a.side, a.quantity, a.price) == (b.conid, b.side, b.quantity, b.price)
