"""``SimEngine``: the broker side of the simulator, shared by the REST and TWS views.

Pure and synchronous: no sockets, no asyncio, no wire shapes. The server calls ``step()`` on
every request and from a ticker; ``step()`` looks only at working orders, so with no working
orders it costs a dictionary check. Quotes come from ``Market`` (cached per sim second).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from ibkr_sim.clock import SimClock
from ibkr_sim.engine import matching
from ibkr_sim.engine.book import OrderBook
from ibkr_sim.engine.commissions import CommissionSchedule, FixedCommission
from ibkr_sim.engine.errors import EngineRejection, OrderNotFound
from ibkr_sim.engine.events import EventBus, ExecutionAdded, Listener, OrderChanged
from ibkr_sim.engine.margin import check_initial_margin
from ibkr_sim.engine.portfolio import Portfolio, tidy
from ibkr_sim.engine.types import (
    AccountState,
    Execution,
    OrderStatus,
    OrderTicket,
    SimOrder,
    SimPosition,
)
from ibkr_sim.engine.validation import check_modification, check_ticket
from ibkr_sim.market import Market, NyseCalendar
from ibkr_sim.universe import Universe

__all__ = ["SimEngine"]

ZERO = Decimal(0)
VENUES = {"NASDAQ": "ISLAND", "NYSE": "NYSE", "ARCA": "ARCA", "BATS": "BATS", "AMEX": "AMEX"}


class SimEngine:
    def __init__(
        self,
        *,
        clock: SimClock,
        universe: Universe,
        market: Market,
        account_id: str = "DU1234567",
        starting_cash: Decimal = Decimal("1000000"),
        commission: CommissionSchedule | None = None,
        fill_delay_s: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.clock = clock
        self.universe = universe
        self.market = market
        self.account_id = account_id
        self.starting_cash = starting_cash
        self.commission = commission if commission is not None else FixedCommission()
        self.fill_delay = timedelta(seconds=fill_delay_s)
        self._lock = threading.RLock()
        self._events = EventBus()
        self._book = OrderBook(seed)
        self._exec_seq = (seed % 4096) * 16
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the start state: no orders, no executions, starting cash, no overrides."""
        with self._lock:
            self._book.clear()
            self._portfolio = Portfolio(self.account_id, self.starting_cash)
            self._executions: list[Execution] = []
            self._fill_value: dict[int, Decimal] = {}
            self._fill_count: dict[int, int] = {}
            self._taken: dict[int, tuple[int, Decimal, Decimal]] = {}
            self.market.reset()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """``OrderChanged``/``ExecutionAdded`` after every change; returns an unsubscriber."""
        return self._events.subscribe(listener)

    # -- orders ----------------------------------------------------------------------------
    def submit(self, ticket: OrderTicket) -> SimOrder:
        """Accept an order (Submitted/PreSubmitted) or raise EngineRejection, changing nothing."""
        with self._lock:
            inst = check_ticket(ticket, self.universe, self.account_id)
            now = self.clock.now()
            if ticket.coid is not None and self._book.coid_in_use(ticket.account, ticket.coid, now):
                raise EngineRejection(
                    f"Order couldn't be submitted: Local order ID={ticket.coid} is already "
                    "registered."
                )
            parent = self._parent_of(ticket)
            check_initial_margin(
                self._portfolio, ticket, self.market.quote(inst.conid), self._mark, self._today()
            )
            order = SimOrder(
                order_id=self._book.next_id(),
                coid=ticket.coid,
                account=ticket.account,
                conid=inst.conid,
                symbol=inst.symbol,
                side=ticket.side,  # type: ignore[arg-type]  # validated above
                order_type=ticket.order_type,  # type: ignore[arg-type]
                quantity=ticket.quantity,
                filled_quantity=ZERO,
                avg_fill_price=None,
                limit_price=ticket.limit_price if ticket.order_type in ("LMT", "STP_LMT") else None,
                stop_price=ticket.stop_price if ticket.order_type in ("STP", "STP_LMT") else None,
                tif=ticket.tif,  # type: ignore[arg-type]
                outside_rth=ticket.outside_rth,
                status="PreSubmitted",
                created_at=now,
                updated_at=now,
                parent_coid=ticket.parent_coid,
                oca_group=ticket.oca_group,
                origin=ticket.origin,
                listing_exchange=inst.listing_exchange,
                parent_order_id=parent.order_id if parent else None,
                expires_at=self._expiry(ticket.tif, now, ticket.outside_rth, ticket.order_type),
            )
            held = parent is not None and parent.status != "Filled"
            order = replace(order, status=self._resting_status(order, now, held=held))
            self._book.add(order, held=held)
            self._events.publish(OrderChanged(order))
            return order

    def cancel(self, account: str, order_id: int) -> SimOrder:
        """Cancel a live order (and a bracket parent's children). A finished order is returned
        unchanged: IBKR acknowledges such a cancel and the order keeps its final status."""
        with self._lock:
            order = self._owned(account, order_id)
            if not order.is_terminal:
                order = self._finish(order, "Cancelled")
            return order

    def cancel_all(self, account: str) -> list[SimOrder]:
        with self._lock:
            live = [o for o in self._book.orders.values() if o.account == account]
            return [self._finish(o, "Cancelled") for o in live if not o.is_terminal]

    def modify(
        self,
        account: str,
        order_id: int,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        tif: str | None = None,
    ) -> SimOrder:
        with self._lock:
            order = self._owned(account, order_id)
            if order.is_terminal:
                raise EngineRejection(
                    f"Order {order_id} cannot be modified: it is already {order.status}"
                )
            inst = self.universe.by_conid(order.conid)
            assert inst is not None
            changes = check_modification(
                order, inst.tick, quantity=quantity, limit_price=limit_price,
                stop_price=stop_price, tif=tif,
            )
            if "tif" in changes:
                changes["expires_at"] = self._expiry(
                    str(changes["tif"]), order.created_at, order.outside_rth, order.order_type
                )
            if not changes:
                return order
            return self._update(order, **changes)

    # -- reads -----------------------------------------------------------------------------
    def orders(self, account: str | None = None) -> list[SimOrder]:
        with self._lock:
            return [o for o in self._book.orders.values() if account in (None, o.account)]

    def order(self, order_id: int) -> SimOrder | None:
        return self._book.orders.get(order_id)

    def order_by_coid(self, account: str, coid: str) -> SimOrder | None:
        with self._lock:
            return self._book.by_coid(account, coid)

    def executions(self, account: str, since: datetime | None = None) -> list[Execution]:
        with self._lock:
            return [
                e
                for e in self._executions
                if e.account == account and (since is None or e.time >= since)
            ]

    def positions(self, account: str) -> list[SimPosition]:
        with self._lock:
            if account != self.account_id:
                return []
            return self._portfolio.positions(self._mark)

    def account(self, account: str) -> AccountState:
        with self._lock:
            if account != self.account_id:
                raise EngineRejection(f"Account {account} is not a valid account")
            return self._portfolio.state(self._mark, self._today())

    # -- matching --------------------------------------------------------------------------
    def step(self) -> None:
        """Match every working order against the market at ``clock.now()``."""
        if not self._book.working:
            return
        with self._lock:
            now = self.clock.now()
            regular = self.market.is_open(now)
            extended = self.market.is_extended_open(now)
            for order_id in list(self._book.working):
                order = self._book.orders[order_id]
                if not order.is_terminal:
                    self._evaluate(order, now, regular, extended)

    def _evaluate(self, order: SimOrder, now: datetime, regular: bool, extended: bool) -> None:
        if order.expires_at is not None and now >= order.expires_at:
            self._finish(order, "Cancelled")
            return
        if now < order.created_at + self.fill_delay:
            return
        if not matching.session_allows(order, regular_open=regular, extended_open=extended):
            self._rest_or_kill(order, "PreSubmitted")
            return
        quote = self.market.quote(order.conid, now)
        if not matching.stop_triggered(order, quote):
            self._rest_or_kill(order, "PreSubmitted")
            return
        if not order.triggered and order.order_type in ("STP", "STP_LMT"):
            order = self._update(order, triggered=True, status="Submitted")
        elif order.status != "Submitted":
            order = self._update(order, status="Submitted")
        price = matching.fill_price(order, quote)
        if price is not None:
            available = self._available(order, quote.updated, matching.touch_size(order, quote))
            quantity = min(order.quantity - order.filled_quantity, available)
            if quantity > 0:
                order = self._fill(order, quantity, price, now)
        if order.tif == "IOC" and not order.is_terminal:
            self._finish(order, "Cancelled")

    def _rest_or_kill(self, order: SimOrder, status: OrderStatus) -> None:
        """An IOC that cannot trade right now is cancelled; anything else waits."""
        if order.tif == "IOC":
            self._finish(order, "Cancelled")
        elif order.status != status:
            self._update(order, status=status)

    def _available(self, order: SimOrder, updated: datetime, touch: Decimal) -> Decimal:
        """Liquidity left at the touch this sim second (each second refreshes the touch)."""
        second = int(updated.timestamp())
        seen_second, bought, sold = self._taken.get(order.conid, (second, ZERO, ZERO))
        if seen_second != second:
            bought = sold = ZERO
        taken = bought if order.side == "BUY" else sold
        self._taken[order.conid] = (second, bought, sold)
        return max(ZERO, touch - taken)

    def _fill(self, order: SimOrder, quantity: Decimal, price: Decimal, now: datetime) -> SimOrder:
        second, bought, sold = self._taken[order.conid]
        if order.side == "BUY":
            bought += quantity
        else:
            sold += quantity
        self._taken[order.conid] = (second, bought, sold)
        value_before = self._fill_value.get(order.order_id, ZERO)
        commission = self.commission.for_fill(
            order.filled_quantity, value_before, quantity, quantity * price
        )
        signed = quantity if order.side == "BUY" else -quantity
        effect = self._portfolio.apply_fill(order.conid, order.symbol, signed, price, commission)
        value = value_before + quantity * price
        filled = order.filled_quantity + quantity
        self._fill_value[order.order_id] = value
        count = self._fill_count.get(order.order_id, 0) + 1
        self._fill_count[order.order_id] = count
        self._exec_seq += 1
        execution = Execution(
            execution_id=f"{self._exec_seq:08x}.{int(now.timestamp()):08x}.{count:02x}.01",
            order_id=order.order_id,
            coid=order.coid,
            account=order.account,
            conid=order.conid,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            commission=commission,
            time=now,
            exchange=VENUES.get(order.listing_exchange, order.listing_exchange),
            position_after=effect.position_after,
            realized_pnl=effect.realized,
        )
        self._executions.append(execution)
        done = filled >= order.quantity
        order = self._update(
            order,
            filled_quantity=filled,
            avg_fill_price=tidy(value / filled),
            commission=order.commission + commission,
            status="Filled" if done else "Submitted",
        )
        self._events.publish(ExecutionAdded(execution))
        self._after_fill(order, quantity)
        return order

    def _after_fill(self, order: SimOrder, quantity: Decimal) -> None:
        """OCA: an explicit group cancels the others on any fill; a bracket's children reduce
        each other share for share and cancel once one is complete. A filled parent releases
        its children."""
        for sibling in self._book.oca_siblings(order):
            if order.oca_group or order.status == "Filled":
                self._finish(sibling, "Cancelled")
            else:
                remaining = sibling.quantity - quantity
                if remaining <= sibling.filled_quantity:
                    self._finish(sibling, "Cancelled")
                else:
                    self._update(sibling, quantity=remaining)
        if order.status == "Filled":
            self._release(order)

    def _release(self, parent: SimOrder) -> None:
        now = self.clock.now()
        for child in self._book.release_children(parent.order_id):
            if child.is_terminal:
                continue
            if child.quantity > parent.filled_quantity:
                child = self._update(child, quantity=parent.filled_quantity)
            status = self._resting_status(child, now, held=False)
            if status != child.status:
                self._update(child, status=status)

    # -- helpers ---------------------------------------------------------------------------
    def _finish(self, order: SimOrder, status: OrderStatus) -> SimOrder:
        order = self._update(order, status=status)
        if order.parent_order_id is None and order.order_id in self._book.held:
            if order.filled_quantity > 0:
                self._release(order)  # a partly filled parent protects what it bought
            else:
                for child in self._book.release_children(order.order_id):
                    if not child.is_terminal:
                        self._update(child, status="Cancelled")
        return order

    def _update(self, order: SimOrder, **changes: object) -> SimOrder:
        order = replace(order, updated_at=self.clock.now(), **changes)  # type: ignore[arg-type]
        self._book.store(order)
        self._events.publish(OrderChanged(order))
        return order

    def _owned(self, account: str, order_id: int) -> SimOrder:
        order = self._book.orders.get(order_id)
        if order is None or order.account != account:
            raise OrderNotFound(order_id)
        return order

    def _parent_of(self, ticket: OrderTicket) -> SimOrder | None:
        if ticket.parent_coid is None:
            return None
        parent = self._book.by_coid(ticket.account, ticket.parent_coid)
        if parent is None:
            raise EngineRejection(
                f"Parent order with cOID {ticket.parent_coid} was not found; place the parent "
                "(with that cOID) first"
            )
        if parent.status in ("Cancelled", "Inactive"):
            raise EngineRejection(
                f"Parent order with cOID {ticket.parent_coid} is {parent.status}; a bracket "
                "child needs a live or filled parent"
            )
        return parent

    def _resting_status(self, order: SimOrder, now: datetime, *, held: bool) -> OrderStatus:
        if held or order.order_type in ("STP", "STP_LMT"):
            return "PreSubmitted"
        allowed = matching.session_allows(
            order,
            regular_open=self.market.is_open(now),
            extended_open=self.market.is_extended_open(now),
        )
        return "Submitted" if allowed else "PreSubmitted"

    def _expiry(
        self, tif: str, when: datetime, outside_rth: bool, order_type: str
    ) -> datetime | None:
        """DAY orders end at the close of the session they can trade in: 20:00 New York for
        outside-RTH limit orders, 16:00 for everything else (market/stop orders wait for RTH)."""
        if tif != "DAY":
            return None
        extended = outside_rth and order_type in ("LMT", "STP_LMT")
        return self.market.session_close_after(when, outside_rth=extended)

    def _today(self) -> date:
        """The New York calendar day, which is what "daily" P&L means at IBKR."""
        return NyseCalendar.local(self.clock.now()).date()

    def _mark(self, conid: int) -> Decimal:
        return self.market.quote(conid).last
