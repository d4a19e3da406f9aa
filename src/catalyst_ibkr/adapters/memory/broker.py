"""`MemoryBroker`: a shipped in-memory Broker with fault knobs, for tests and dry runs.

Why ship it (not a mock per test): the risk engine, the OMS and the contract suite all need
the same believable broker, one that keeps a book, fills against quotes, emits events in the
order IBKR does (fill, then the status it causes) and can be told to misbehave the ways IBKR
does: a definitive reject, an outcome that is unknown although the order landed, an unknown
outcome where nothing landed, partial fills, a lost session. Every call is logged, so a test
can prove that a denied order made zero broker calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from catalyst_ibkr.adapters.memory.book import Book, VenueOrder
from catalyst_ibkr.adapters.memory.stream import EventHub, Subscription
from catalyst_ibkr.core.clock import Clock, FixedClock
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import AccountId, ClientOrderId, ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.ports.broker import (
    Accepted,
    AccountSummary,
    Broker,
    BrokerUnavailable,
    CancelOrder,
    CommandOutcome,
    ExecutionReport,
    FillEvent,
    HealthEvent,
    InstrumentNotFound,
    ModifyOrder,
    OrderReport,
    OutcomeUnknown,
    PlaceOrder,
    PositionReport,
    Rejected,
    SessionHealth,
)

__all__ = ["DEFAULT_INSTRUMENTS", "PAPER_ACCOUNT", "BrokerCall", "Command", "MemoryBroker"]

Command = Literal["place", "modify", "cancel", "cancel_all"]

PAPER_ACCOUNT = AccountId("DU1234567")
DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument(conid=ConId(265598), symbol="AAPL", exchange="SMART"),
    Instrument(conid=ConId(272093), symbol="MSFT", exchange="SMART"),
    Instrument(conid=ConId(756733), symbol="SPY", exchange="SMART"),
)


@dataclass(frozen=True, slots=True)
class BrokerCall:
    """One call made on the broker, in order: the method name and its arguments."""

    method: str
    args: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True)
class _Reject:
    reason: str
    code: str | None


@dataclass(frozen=True, slots=True)
class _Unknown:
    landed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class _Unavailable:
    detail: str


_Fault = _Reject | _Unknown | _Unavailable


class MemoryBroker:
    """An in-memory Broker for one paper account. Venue control and fault knobs are plain
    methods (`set_quote`, `fill`, `reject_next`, `unknown_next`, ...); see docs/broker-port.md.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        account: AccountId = PAPER_ACCOUNT,
        instruments: Iterable[Instrument] = DEFAULT_INSTRUMENTS,
        cash: Decimal = Decimal(1_000_000),
        currency: str = "USD",
    ) -> None:
        self._clock: Clock = clock if clock is not None else FixedClock()
        self._currency = currency
        self._hub = EventHub()
        self._book = Book(account, tuple(instruments), cash, self._clock.now, self._hub.publish)
        self._faults: dict[str, deque[_Fault]] = {}
        self._health = SessionHealth(connected=True, authenticated=True, time=self._clock.now())
        self.calls: list[BrokerCall] = []

    # -- the call log --------------------------------------------------------------------

    def call_count(self, method: str | None = None) -> int:
        """How many calls were made (of one method, or of any)."""
        return sum(1 for c in self.calls if method is None or c.method == method)

    def _log(self, method: str, *args: object) -> None:
        self.calls.append(BrokerCall(method, args))

    # -- fault knobs ---------------------------------------------------------------------

    def reject_next(self, command: Command = "place", reason: str = "rejected by test",
                    code: str | None = None) -> None:
        """The next `command` is definitively rejected and has no effect."""
        self._faults.setdefault(command, deque()).append(_Reject(reason, code))

    def unknown_next(self, command: Command = "place", *, landed: bool,
                     detail: str = "response lost") -> None:
        """The next `command` raises OutcomeUnknown; with `landed` it took effect first."""
        self._faults.setdefault(command, deque()).append(_Unknown(landed, detail))

    def unavailable_next(self, command: Command = "place",
                         detail: str = "connection refused") -> None:
        """The next `command` raises BrokerUnavailable: provably never sent."""
        self._faults.setdefault(command, deque()).append(_Unavailable(detail))

    def set_fill_limit(self, quantity: Decimal | None) -> None:
        """Cap each matching pass at `quantity` (partial fills); None fills in full."""
        self._book.fill_limit = quantity

    def set_health(self, *, connected: bool = True, authenticated: bool = True,
                   competing: bool = False, detail: str = "") -> None:
        """Change the session state; commands fail with BrokerUnavailable while it is bad."""
        self._health = SessionHealth(connected, authenticated, self._clock.now(), competing,
                                     detail)
        self._hub.publish(HealthEvent(self._health))

    # -- venue control -------------------------------------------------------------------

    def set_quote(self, symbol: str, *, bid: Decimal | None, ask: Decimal | None,
                  last: Decimal | None = None) -> Quote:
        """Move the market; resting orders that become marketable fill now."""
        instrument = self._require(symbol)
        quote = Quote(instrument.conid, bid, ask, last, self._clock.now())
        self._book.set_quote(quote)
        return quote

    def fill(self, client_order_id: ClientOrderId, quantity: Decimal | None = None,
             price: Decimal | None = None) -> None:
        """Force an execution of a working order (default: all of it at its limit/touch)."""
        order = self._book.find(client_order_id, None)
        if order is None:
            raise KeyError(f"no order with cOID {client_order_id}")
        qty = order.remaining if quantity is None else quantity
        px = price if price is not None else (order.limit_price or order.stop_price)
        if px is None:
            quote = self._book.quotes.get(order.instrument.conid)
            px = quote.reference_price(order.side) if quote is not None else None
        if px is None:
            raise ValueError("no price to fill at: pass price= or set a quote")
        self._book.fill(order, qty, px)

    def add_external_order(self, symbol: str, side: Side, quantity: Decimal,
                           limit_price: Decimal) -> OrderReport:
        """An order placed outside the gateway (TWS by hand): no cOID."""
        order = self._book.add(None, self._require(symbol), side, quantity, OrderType.LMT,
                               TimeInForce.DAY, limit_price, None)
        return self._book.report(order)

    def replay_executions(self) -> None:
        """Re-send every fill event, as TWS does after a reconnect (same execution ids)."""
        for execution in self._book.executions:
            self._hub.publish(FillEvent(execution))

    def orders_for(self, client_order_id: ClientOrderId) -> list[OrderReport]:
        """Every venue order carrying this cOID (the contract says at most one)."""
        return [self._book.report(o) for o in self._book.orders.values()
                if o.client_order_id == client_order_id]

    # -- the Broker protocol -------------------------------------------------------------

    async def health(self) -> SessionHealth:
        self._log("health")
        return self._health

    async def resolve(self, symbol: str, *, sec_type: str = "STK",
                      exchange: str | None = None, currency: str = "USD") -> Instrument:
        self._log("resolve", symbol, sec_type, exchange, currency)
        self._require_session()
        instrument = self._book.instrument_for(symbol)
        if instrument is None or instrument.sec_type != sec_type.upper() or (
            instrument.currency != currency.upper()
        ):
            raise InstrumentNotFound(symbol, "no security definition")
        return instrument

    async def quotes(self, conids: Sequence[ConId]) -> Sequence[Quote]:
        self._log("quotes", tuple(conids))
        self._require_session()
        return [self._book.quotes[c] for c in conids if c in self._book.quotes]

    async def place(self, request: PlaceOrder) -> CommandOutcome:
        self._log("place", request)
        self._require_session()
        cid = request.client_order_id
        fault = self._take_fault("place")
        if isinstance(fault, _Reject):
            return Rejected(cid, fault.reason, fault.code)
        if isinstance(fault, _Unknown) and not fault.landed:
            raise OutcomeUnknown(cid, fault.detail)
        for used in (cid, *(leg.client_order_id for leg in request.legs)):
            if used in self._book.by_coid:
                return Rejected(cid, f"Order couldn't be submitted: Local order ID={used} is "
                                "already registered.", "DUPLICATE_COID")
        instrument = self._book.instruments.get(request.instrument.conid)
        if instrument is None:
            return Rejected(cid, "No security definition has been found for the request", "200")
        order = self._book.add(cid, instrument, request.side, request.quantity,
                               request.order_type, request.tif, request.limit_price,
                               request.stop_price, request.legs)
        if isinstance(fault, _Unknown):
            raise OutcomeUnknown(cid, fault.detail)
        return Accepted(cid, order.broker_order_id)

    async def modify(self, request: ModifyOrder) -> CommandOutcome:
        self._log("modify", request)
        self._require_session()
        cid = request.client_order_id
        fault = self._take_fault("modify")
        if isinstance(fault, _Reject):
            return Rejected(cid, fault.reason, fault.code)
        if isinstance(fault, _Unknown) and not fault.landed:
            raise OutcomeUnknown(cid, fault.detail)
        order = self._book.find(cid, request.broker_order_id)
        problem = self._unmodifiable(order, request)
        if problem is not None:
            return Rejected(cid, problem)
        assert order is not None
        self._book.modify(order, request.quantity, request.limit_price, request.stop_price)
        if isinstance(fault, _Unknown):
            raise OutcomeUnknown(cid, fault.detail)
        return Accepted(cid, order.broker_order_id)

    async def cancel(self, request: CancelOrder) -> CommandOutcome:
        self._log("cancel", request)
        self._require_session()
        cid = request.client_order_id
        fault = self._take_fault("cancel")
        if isinstance(fault, _Reject):
            return Rejected(cid, fault.reason, fault.code)
        if isinstance(fault, _Unknown) and not fault.landed:
            raise OutcomeUnknown(cid, fault.detail)
        order = self._book.find(cid, request.broker_order_id)
        if order is None:
            return Rejected(cid, "OrderID doesn't exist")
        if not order.status.is_working:
            return Rejected(cid, f"order is already {order.status.value}")
        self._book.cancel(order)
        if isinstance(fault, _Unknown):
            raise OutcomeUnknown(cid, fault.detail)
        return Accepted(order.client_order_id, order.broker_order_id)

    async def cancel_all(self) -> CommandOutcome:
        self._log("cancel_all")
        self._require_session()
        fault = self._take_fault("cancel_all")
        if isinstance(fault, _Reject):
            return Rejected(None, fault.reason, fault.code)
        if isinstance(fault, _Unknown) and not fault.landed:
            raise OutcomeUnknown(None, fault.detail)
        for order in list(self._book.orders.values()):
            if order.status.is_working:
                self._book.cancel(order)
        if isinstance(fault, _Unknown):
            raise OutcomeUnknown(None, fault.detail)
        return Accepted(None, None, "cancel requested for every working order")

    async def order(self, client_order_id: ClientOrderId) -> OrderReport | None:
        self._log("order", client_order_id)
        self._require_session()
        found = self._book.find(client_order_id, None)
        return None if found is None else self._book.report(found)

    async def open_orders(self) -> Sequence[OrderReport]:
        self._log("open_orders")
        self._require_session()
        return [self._book.report(o) for o in self._book.orders.values() if o.status.is_working]

    async def executions(self, since: datetime) -> Sequence[ExecutionReport]:
        self._log("executions", since)
        self._require_session()
        return [e for e in self._book.executions if e.time >= since]

    async def positions(self) -> Sequence[PositionReport]:
        self._log("positions")
        self._require_session()
        return self._book.position_reports()

    async def account(self) -> AccountSummary:
        self._log("account")
        self._require_session()
        net = self._book.net_liquidation()
        return AccountSummary(
            account=self._book.account,
            currency=self._currency,
            net_liquidation=net,
            buying_power=max(Decimal(0), net),
            cash=self._book.cash,
            time=self._clock.now(),
        )

    def events(self) -> Subscription:
        self._log("events")
        return self._hub.subscribe()

    async def close(self) -> None:
        """End every open event subscription (their iterators stop)."""
        self._hub.close_all()

    # -- helpers -------------------------------------------------------------------------

    def _require(self, symbol: str) -> Instrument:
        instrument = self._book.instrument_for(symbol)
        if instrument is None:
            raise KeyError(f"the memory broker has no instrument {symbol!r}")
        return instrument

    def _require_session(self) -> None:
        if not self._health.ok:
            raise BrokerUnavailable(f"session not usable: {self._health.detail or 'down'}")

    def _take_fault(self, command: Command) -> _Fault | None:
        queue = self._faults.get(command)
        fault = queue.popleft() if queue else None
        if isinstance(fault, _Unavailable):
            raise BrokerUnavailable(fault.detail)
        return fault

    @staticmethod
    def _unmodifiable(order: VenueOrder | None, request: ModifyOrder) -> str | None:
        if order is None:
            return "OrderID doesn't exist"
        if not order.status.is_working:
            return f"order is already {order.status.value}"
        if request.quantity is not None and request.quantity <= order.filled:
            return f"quantity {request.quantity} is not above the filled {order.filled}"
        if request.limit_price is not None and order.limit_price is None:
            return f"a {order.order_type.value} order has no limit price to change"
        if request.stop_price is not None and order.stop_price is None:
            return f"a {order.order_type.value} order has no stop price to change"
        return None


if TYPE_CHECKING:  # mypy proves MemoryBroker satisfies the Broker port
    _PORT_CHECK: Broker = MemoryBroker()
