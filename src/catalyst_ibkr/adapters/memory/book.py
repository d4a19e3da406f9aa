"""The fake venue behind `MemoryBroker`: orders, matching, fills, positions and cash.

Synchronous and deterministic on purpose: every effect happens inside the call that caused
it, in a fixed order, so tests of the risk engine and the OMS never race the fake. The
broker wrapper adds the async surface, the fault knobs and the event stream.

Matching is deliberately simple and conservative:
- a buy fills at the ask when the ask is at or below its limit (a sell: bid at or above);
- a market order fills at the touch as soon as there is one;
- a stop triggers when the touch reaches it (buy: ask >= stop; sell: bid <= stop) and then
  behaves as a market (STP) or limit (STP_LMT) order;
- IOC remainders are cancelled right after the first matching attempt;
- `fill_limit` caps how much one matching pass fills (partial fills on demand);
- bracket children rest inactive until their parent is completely filled; the first fill
  of one child cancels its siblings (one-cancels-all), and cancelling a parent cancels them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import AccountId, BrokerOrderId, ClientOrderId, ConId, ExecutionId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import (
    BracketLeg,
    BrokerEvent,
    ExecutionReport,
    FillEvent,
    OrderEvent,
    OrderReport,
    PositionReport,
)

__all__ = ["Book", "VenueOrder"]


@dataclass(slots=True)
class VenueOrder:
    """The venue's mutable record of one order."""

    broker_order_id: BrokerOrderId
    client_order_id: ClientOrderId | None
    instrument: Instrument
    side: Side
    quantity: Decimal
    order_type: OrderType
    tif: TimeInForce
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    updated_at: datetime
    filled: Decimal = Decimal(0)
    fill_value: Decimal = Decimal(0)
    triggered: bool = False
    parent: BrokerOrderId | None = None  # bracket child: inactive until the parent fills
    active: bool = True

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@dataclass(slots=True)
class _Position:
    quantity: Decimal = Decimal(0)
    avg_cost: Decimal = Decimal(0)


class Book:
    """One account's orders, executions and positions at the fake venue."""

    def __init__(
        self,
        account: AccountId,
        instruments: tuple[Instrument, ...],
        cash: Decimal,
        now: Callable[[], datetime],
        emit: Callable[[BrokerEvent], None],
    ) -> None:
        self.account = account
        self.instruments = {i.conid: i for i in instruments}
        self.cash = cash
        self.quotes: dict[ConId, Quote] = {}
        self.orders: dict[BrokerOrderId, VenueOrder] = {}
        self.by_coid: dict[ClientOrderId, BrokerOrderId] = {}
        self.executions: list[ExecutionReport] = []
        self.positions: dict[ConId, _Position] = {}
        self.fill_limit: Decimal | None = None
        self._now = now
        self._emit = emit
        self._next_order_id = 1_000_000_001
        self._next_exec_id = 1

    # -- lookups -------------------------------------------------------------------------

    def instrument_for(self, symbol: str) -> Instrument | None:
        wanted = symbol.strip().upper()
        return next((i for i in self.instruments.values() if i.symbol == wanted), None)

    def find(
        self, client_order_id: ClientOrderId | None, broker_order_id: BrokerOrderId | None
    ) -> VenueOrder | None:
        if broker_order_id is not None:
            return self.orders.get(broker_order_id)
        if client_order_id is not None and client_order_id in self.by_coid:
            return self.orders[self.by_coid[client_order_id]]
        return None

    def report(self, order: VenueOrder) -> OrderReport:
        avg = order.fill_value / order.filled if order.filled else None
        return OrderReport(
            client_order_id=order.client_order_id,
            broker_order_id=order.broker_order_id,
            account=self.account,
            conid=order.instrument.conid,
            symbol=order.instrument.symbol,
            side=order.side,
            order_type=order.order_type,
            quantity=order.quantity,
            filled_quantity=order.filled,
            status=order.status,
            updated_at=order.updated_at,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            avg_fill_price=avg,
            tif=order.tif,
        )

    def position_reports(self) -> list[PositionReport]:
        return [
            PositionReport(self.account, conid, self.instruments[conid].symbol, p.quantity,
                           p.avg_cost)
            for conid, p in sorted(self.positions.items())
            if p.quantity != 0
        ]

    def net_liquidation(self) -> Decimal:
        value = self.cash
        for conid, pos in self.positions.items():
            quote = self.quotes.get(conid)
            mark = (quote.last or quote.mid) if quote is not None else None
            inst = self.instruments[conid]
            value += pos.quantity * (mark if mark is not None else pos.avg_cost) * inst.multiplier
        return value

    # -- commands ------------------------------------------------------------------------

    def add(
        self,
        client_order_id: ClientOrderId | None,
        instrument: Instrument,
        side: Side,
        quantity: Decimal,
        order_type: OrderType,
        tif: TimeInForce,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
        legs: tuple[BracketLeg, ...] = (),
    ) -> VenueOrder:
        order = self._record(client_order_id, instrument, side, quantity, order_type, tif,
                             limit_price, stop_price)
        for leg in legs:
            is_limit = leg.order_type in (OrderType.LMT, OrderType.STP_LMT)
            child = self._record(
                leg.client_order_id, instrument, side.opposite, quantity, leg.order_type,
                tif, leg.price if is_limit else None, None if is_limit else leg.price,
            )
            child.parent, child.active = order.broker_order_id, False
        self._match(order)
        return order

    def _record(
        self,
        client_order_id: ClientOrderId | None,
        instrument: Instrument,
        side: Side,
        quantity: Decimal,
        order_type: OrderType,
        tif: TimeInForce,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> VenueOrder:
        broker_id = BrokerOrderId(self._next_order_id)
        self._next_order_id += 1
        order = VenueOrder(
            broker_order_id=broker_id,
            client_order_id=client_order_id,
            instrument=instrument,
            side=side,
            quantity=quantity,
            order_type=order_type,
            tif=tif,
            limit_price=limit_price,
            stop_price=stop_price,
            status=OrderStatus.SUBMITTED,
            updated_at=self._now(),
        )
        self.orders[broker_id] = order
        if client_order_id is not None:
            self.by_coid[client_order_id] = broker_id
        self._publish(order)
        return order

    def modify(
        self,
        order: VenueOrder,
        quantity: Decimal | None,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        if quantity is not None:
            order.quantity = quantity
        if limit_price is not None:
            order.limit_price = limit_price
        if stop_price is not None:
            order.stop_price = stop_price
        self._touch(order)
        self._match(order)

    def cancel(self, order: VenueOrder) -> None:
        order.status = OrderStatus.CANCELLED
        self._touch(order)
        for child in self._children(order):
            if child.status.is_working:
                self.cancel(child)

    def set_quote(self, quote: Quote) -> None:
        self.quotes[quote.conid] = quote
        for order in list(self.orders.values()):
            if order.instrument.conid == quote.conid and order.status.is_working:
                self._match(order)

    def fill(self, order: VenueOrder, quantity: Decimal, price: Decimal) -> None:
        """Execute `quantity` of a working order at `price` (venue control)."""
        quantity = min(quantity, order.remaining)
        if quantity <= 0 or not order.status.is_working:
            return
        exec_id = ExecutionId(f"mem.{self._next_exec_id:08d}")
        self._next_exec_id += 1
        order.filled += quantity
        order.fill_value += quantity * price
        execution = ExecutionReport(
            execution_id=exec_id,
            client_order_id=order.client_order_id,
            broker_order_id=order.broker_order_id,
            account=self.account,
            conid=order.instrument.conid,
            symbol=order.instrument.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            time=self._now(),
            commission=Decimal("1.00"),
        )
        self.executions.append(execution)
        self._book_position(order, quantity, price)
        self._emit(FillEvent(execution))
        done = order.filled >= order.quantity
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        self._touch(order)
        if order.parent is not None:
            self._cancel_siblings(order)
        if done:
            self._activate_children(order)

    def _children(self, order: VenueOrder) -> list[VenueOrder]:
        return [o for o in self.orders.values() if o.parent == order.broker_order_id]

    def _cancel_siblings(self, child: VenueOrder) -> None:
        for sibling in self.orders.values():
            same_group = sibling.parent == child.parent and sibling is not child
            if same_group and sibling.status.is_working:
                sibling.status = OrderStatus.CANCELLED
                self._touch(sibling)

    def _activate_children(self, parent: VenueOrder) -> None:
        children = self._children(parent)
        for child in children:
            child.active = True
        for child in children:
            self._match(child)

    # -- internals -----------------------------------------------------------------------

    def _touch(self, order: VenueOrder) -> None:
        order.updated_at = self._now()
        self._publish(order)

    def _publish(self, order: VenueOrder) -> None:
        self._emit(OrderEvent(self.report(order)))

    def _book_position(self, order: VenueOrder, quantity: Decimal, price: Decimal) -> None:
        multiplier = order.instrument.multiplier
        signed = order.side.sign * quantity
        self.cash -= signed * price * multiplier + Decimal("1.00")
        pos = self.positions.setdefault(order.instrument.conid, _Position())
        new_qty = pos.quantity + signed
        if pos.quantity == 0 or (pos.quantity > 0) == (signed > 0):
            pos.avg_cost = (pos.quantity * pos.avg_cost + signed * price) / new_qty
        elif new_qty != 0 and (new_qty > 0) != (pos.quantity > 0):
            pos.avg_cost = price  # flipped: the remainder was opened at this price
        pos.quantity = new_qty
        if new_qty == 0:
            pos.avg_cost = Decimal(0)

    def _executable_price(self, order: VenueOrder) -> Decimal | None:
        quote = self.quotes.get(order.instrument.conid)
        if quote is None or quote.is_crossed:
            return None
        touch = quote.ask if order.side is Side.BUY else quote.bid
        if touch is None:
            return None
        if order.order_type in (OrderType.STP, OrderType.STP_LMT) and not order.triggered:
            assert order.stop_price is not None
            hit = touch >= order.stop_price if order.side is Side.BUY else (
                touch <= order.stop_price)
            if not hit:
                return None
            order.triggered = True
        if order.limit_price is None:
            return touch
        marketable = touch <= order.limit_price if order.side is Side.BUY else (
            touch >= order.limit_price)
        return touch if marketable else None

    def _match(self, order: VenueOrder) -> None:
        if not order.active:
            return
        if order.status.is_working:
            price = self._executable_price(order)
            if price is not None:
                cap = order.remaining if self.fill_limit is None else min(
                    order.remaining, self.fill_limit)
                self.fill(order, cap, price)
        if order.tif is TimeInForce.IOC and order.status.is_working:
            order.status = OrderStatus.CANCELLED
            self._touch(order)
