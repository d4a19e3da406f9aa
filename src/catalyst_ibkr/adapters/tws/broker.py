"""`TwsBroker`: the Broker port over the TWS socket API (IB Gateway / TWS) via ib_async.

Outcome rules, as the port demands:
- place: TWS assigns nothing; we take the order id from ib_async's counter (seeded by
  ``nextValidId``, floored above every id we used, so ids are never reused across
  reconnects) and put our cOID in ``orderRef``. Accepted once TWS reports the order
  PreSubmitted/Submitted/Filled; Rejected on an error that cancels it before that; the socket
  dropping or silence -> OutcomeUnknown (reconcile by cOID, never resend);
- TWS does not enforce ``orderRef`` uniqueness, so the adapter refuses a cOID it has seen
  (in this process or in TWS's open/completed orders) before sending anything;
- fills are published once per execId for the life of the adapter, so the executions TWS
  replays after a reconnect never count twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from ib_async import Contract, ExecutionFilter

from catalyst_ibkr.adapters.memory.stream import EventHub
from catalyst_ibkr.adapters.tws import convert
from catalyst_ibkr.adapters.tws.book import DEAD_STATUSES, WARNING_CODES, TwsBook
from catalyst_ibkr.adapters.tws.connection import TwsConnection, TwsSettings
from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.ids import AccountId, ClientOrderId, ConId, ExecutionId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.ports.broker import (
    Accepted,
    AccountSummary,
    BrokerUnavailable,
    CancelOrder,
    CommandOutcome,
    EventStream,
    ExecutionReport,
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

__all__ = ["TwsBroker"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

#: how often a command's answer is looked for when no TWS message woke the waiter (a
#: socket loss, a deadline); answers themselves wake it at once
POLL_S = 0.05


class TwsBroker:
    """One TWS client connection (one account). ``await start()`` before use."""

    def __init__(self, settings: TwsSettings) -> None:
        self.settings = settings
        self._hub = EventHub()
        self._book = TwsBook(settings.client_id, lambda: self.account_id, self._hub)
        self._conn = TwsConnection(settings, reconcile=self._reconcile,
                                   on_health=self._publish_health, on_error=self._on_error)
        self._instruments: dict[tuple[str, str, str | None, str], Instrument] = {}
        self._refresh_lock = asyncio.Lock()
        self._answered = asyncio.Event()  # set on every order message or error from TWS
        self._wire_events()

    @property
    def ib(self) -> Any:
        return self._conn.ib

    @property
    def account_id(self) -> AccountId:
        return AccountId(self._conn.account)

    async def start(self, *, keepalive: bool = True, stream: bool = True) -> TwsBroker:
        """Connect (raises BrokerUnavailable saying why not). The keywords match the Web API
        broker's so callers can start either backend alike; over TWS the socket itself is the
        keepalive and order/fill events always stream, so they change nothing here."""
        await self._conn.open()
        return self

    async def close(self) -> None:
        await self._conn.close()
        self._hub.close_all()

    # -- ib_async events -> our book and event stream ------------------------------------------
    def _wire_events(self) -> None:
        ib = self.ib
        ib.orderStatusEvent += self._book.on_trade
        ib.openOrderEvent += self._book.on_open_order
        ib.commissionReportEvent += self._book.on_commission
        # after the book's handlers, so a woken waiter finds the book already updated
        ib.orderStatusEvent += self._wake
        ib.openOrderEvent += self._wake
        ib.disconnectedEvent += self._wake

    def _wake(self, *_: Any) -> None:
        self._answered.set()

    def _on_error(self, req_id: int, code: int, message: str) -> None:
        self._book.on_error(req_id, code, message)
        self._answered.set()

    def _publish_health(self, health: SessionHealth) -> None:
        self._hub.publish(HealthEvent(health))

    async def _reconcile(self) -> None:
        """After (re)connect or 1101/1102: fold in TWS's view and publish fills we missed."""
        for trade in self.ib.trades():
            self._book.note(trade)
        for fill in self.ib.fills():
            self._book.publish_fill(fill)
        if self.ib.isConnected():
            await self._refresh()

    async def _refresh(self) -> None:
        """All open orders of the account (any client) plus today's completed ones."""
        async with self._refresh_lock:
            timeout = self.settings.request_timeout_s
            opened = await asyncio.wait_for(self.ib.reqAllOpenOrdersAsync(), timeout)
            done = await asyncio.wait_for(self.ib.reqCompletedOrdersAsync(False), timeout)
        for trade in [*done, *opened]:
            self._book.note(trade)

    async def _ask(self, awaitable: Any, what: str) -> Any:
        await self._conn.wait_ready()
        try:
            return await asyncio.wait_for(awaitable, self.settings.request_timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            raise BrokerUnavailable(f"TWS did not answer {what}: {exc or 'timeout'}") from exc

    # -- session, contracts, quotes ------------------------------------------------------------
    async def health(self) -> SessionHealth:
        return self._conn.health()

    async def resolve(self, symbol: str, *, sec_type: str = "STK",
                      exchange: str | None = None, currency: str = "USD") -> Instrument:
        key = (symbol.upper(), sec_type, exchange, currency)
        if key in self._instruments:
            return self._instruments[key]
        await self._conn.wait_ready()
        # IB spells share classes with a space ("BRK B"); "BRK.B" is the common alias.
        wire_symbol = symbol.upper().replace(".", " ") if sec_type == "STK" else symbol.upper()
        query = Contract(symbol=wire_symbol, secType=sec_type, exchange=exchange or "SMART",
                         currency=currency)
        details = await self._ask(self.ib.reqContractDetailsAsync(query), "contract details")
        if not details:
            raise InstrumentNotFound(symbol, "TWS has no security definition (error 200)")
        if len(details) > 1:
            venues = sorted({str(d.contract.primaryExchange) for d in details})
            raise InstrumentNotFound(symbol, f"ambiguous: listed on {', '.join(venues)}; "
                                     "pass exchange= to choose")
        instrument = convert.instrument_from_details(details[0], exchange)
        self._instruments[key] = instrument
        return instrument

    async def quotes(self, conids: Sequence[ConId]) -> Sequence[Quote]:
        await self._conn.wait_ready()
        now = datetime.now(UTC)

        async def one(conid: ConId) -> Quote | None:
            contract = Contract(conId=int(conid), exchange="SMART")
            try:
                tickers = await asyncio.wait_for(self.ib.reqTickersAsync(contract),
                                                 self.settings.request_timeout_s)
            except (TimeoutError, ConnectionError):
                return None
            return convert.quote_from_ticker(tickers[0], now) if tickers else None

        found = await asyncio.gather(*(one(c) for c in conids))
        return [q for q in found if q is not None]

    # -- commands ------------------------------------------------------------------------------
    async def place(self, request: PlaceOrder) -> CommandOutcome:
        cid = request.client_order_id
        await self._conn.wait_ready()
        if self._conn.held:
            raise BrokerUnavailable(self._conn.detail)
        for used in (cid, *(leg.client_order_id for leg in request.legs)):
            if self._known_coid(used):
                return Rejected(cid, f"cOID {used} was already used for an order; a new order "
                                "needs a new cOID", code="DUPLICATE_COID")
        contract = convert.contract_for(request.instrument)
        parent = convert.order_for(request, self.account_id)
        if request.legs:
            parent.transmit = False
        generation = self._conn.generation
        try:
            trade = self.ib.placeOrder(contract, parent)
        except ConnectionError as exc:
            raise BrokerUnavailable(f"not connected to TWS: {exc}") from exc
        self._claim(trade)
        for index, leg in enumerate(request.legs):
            child = convert.order_for(
                PlaceOrder(leg.client_order_id, request.instrument,
                           Side.SELL if request.side is Side.BUY else Side.BUY,
                           request.quantity, leg.order_type, request.tif,
                           limit_price=leg.price if leg.order_type.value == "LMT" else None,
                           stop_price=leg.price if leg.order_type.value == "STP" else None,
                           account=request.account), self.account_id)
            child.parentId = trade.order.orderId
            child.transmit = index == len(request.legs) - 1
            try:
                self._claim(self.ib.placeOrder(contract, child))
            except ConnectionError as exc:
                raise OutcomeUnknown(cid, f"socket lost while sending bracket legs: {exc}") from exc
        order_id = int(trade.order.orderId)

        def outcome() -> CommandOutcome | None:
            if order_id in self._book.acked:
                return Accepted(cid, convert.broker_order_id(trade.order.permId, order_id))
            if str(trade.orderStatus.status) in DEAD_STATUSES:
                code, message = self._book.fatal_error(order_id) or (0, "order was not accepted")
                return Rejected(cid, message, code=str(code) if code else None)
            return None

        return await self._await(outcome, generation, cid)

    async def modify(self, request: ModifyOrder) -> CommandOutcome:
        cid = request.client_order_id
        await self._conn.wait_ready()
        if self._conn.held:
            raise BrokerUnavailable(self._conn.detail)
        trade = await self._own_trade(cid)
        if trade is None:
            return Rejected(cid, f"no working order with cOID {cid} placed by this TWS client")
        if trade.isDone():
            return Rejected(cid, f"order {cid} is already {trade.orderStatus.status}")
        order_id = int(trade.order.orderId)
        order = trade.order
        if request.quantity is not None:
            order.totalQuantity = float(request.quantity)
        if request.limit_price is not None:
            order.lmtPrice = float(request.limit_price)
        if request.stop_price is not None:
            order.auxPrice = float(request.stop_price)
        seen, errors = self._book.open_seen[order_id], len(self._book.errors[order_id])
        generation = self._conn.generation
        self._book.modifying.add(order_id)
        try:
            self.ib.placeOrder(trade.contract, order)

            def outcome() -> CommandOutcome | None:
                fresh = self._book.errors[order_id][errors:]
                fatal = [e for e in fresh if e[0] not in WARNING_CODES]
                if fatal:
                    return Rejected(cid, fatal[-1][1], code=str(fatal[-1][0]))
                if self._book.open_seen[order_id] > seen:
                    return Accepted(cid, convert.broker_order_id(order.permId, order_id))
                return None

            result: CommandOutcome = await self._await(outcome, generation, cid)
        finally:
            self._book.modifying.discard(order_id)
        if isinstance(result, Rejected):
            await self._refresh()  # undo ib_async's local edits with TWS's truth
        else:
            self._book.note(trade)
        return result

    async def cancel(self, request: CancelOrder) -> CommandOutcome:
        cid = request.client_order_id
        await self._conn.wait_ready()
        trade = await self._own_trade(cid) if cid is not None else None
        if trade is None:
            report = self._book.reports.get(cid) if cid is not None else None
            if report is None and request.broker_order_id is not None:
                report = self._book.by_broker_id(request.broker_order_id)
            if report is not None and report.status.is_closed:
                return Rejected(cid, f"order is already {report.status.value}", code="161")
            if report is not None:
                return Rejected(cid, "the order belongs to another TWS client or the Web API; "
                                "TWS lets a client cancel only its own orders (use cancel_all)")
            return Rejected(cid, "no such order", code="135")
        if trade.isDone():
            return Rejected(cid, f"order is already {trade.orderStatus.status}", code="161")
        order_id = int(trade.order.orderId)
        errors = len(self._book.errors[order_id])
        generation = self._conn.generation
        self.ib.cancelOrder(trade.order)

        def outcome() -> CommandOutcome | None:
            status = str(trade.orderStatus.status)
            if status in ("Cancelled", "ApiCancelled"):
                return Accepted(cid, convert.broker_order_id(trade.order.permId, order_id))
            if status == "Filled":
                return Rejected(cid, "the order filled before the cancel arrived", code="161")
            for code, message in self._book.errors[order_id][errors:]:
                if code in (135, 161, 10148):
                    return Rejected(cid, message, code=str(code))
            return None

        result: CommandOutcome = await self._await(outcome, generation, cid)
        return result

    async def cancel_all(self) -> CommandOutcome:
        await self._conn.wait_ready()
        try:
            self.ib.reqGlobalCancel()
        except ConnectionError as exc:
            raise BrokerUnavailable(f"not connected to TWS: {exc}") from exc
        return Accepted(None, detail="global cancel sent; TWS confirms each order separately")

    # -- reads ---------------------------------------------------------------------------------
    async def order(self, client_order_id: ClientOrderId) -> OrderReport | None:
        await self._conn.wait_ready()
        report = self._book.reports.get(client_order_id)
        if report is not None and (report.status.is_closed or client_order_id in self._book.own):
            return report  # TWS pushes every change of our own orders while connected
        await self._ask(self._refresh(), "open/completed orders")
        return self._book.reports.get(client_order_id)

    async def open_orders(self) -> Sequence[OrderReport]:
        trades = await self._ask(self.ib.reqAllOpenOrdersAsync(), "open orders")
        now = datetime.now(UTC)
        out: list[OrderReport] = []
        for trade in trades:
            report = self._book.note(trade) or convert.order_report(trade, self.account_id, now)
            if report is not None and report.status.is_working:
                out.append(report)
        return out

    async def executions(self, since: datetime) -> Sequence[ExecutionReport]:
        since_utc = since.astimezone(UTC)
        flt = ExecutionFilter(acctCode=self._conn.account,
                              time=since_utc.strftime("%Y%m%d-%H:%M:%S"))
        fills = await self._ask(self.ib.reqExecutionsAsync(flt), "executions")
        out: dict[ExecutionId, ExecutionReport] = {}
        for fill in fills:
            report = convert.execution_report(fill, self.account_id)
            if report.time >= since_utc:
                out.setdefault(report.execution_id, report)
        return list(out.values())

    async def positions(self) -> Sequence[PositionReport]:
        rows = await self._ask(self.ib.reqPositionsAsync(), "positions")
        reports = [convert.position_report(p) for p in rows]
        return [p for p in reports if p.account == self.account_id and p.quantity != 0]

    async def account(self) -> AccountSummary:
        await self._conn.wait_ready()
        values = {v.tag: v for v in self.ib.accountValues(self._conn.account)
                  if v.currency not in ("BASE", "")}
        if "NetLiquidation" not in values:
            rows = await self._ask(self.ib.accountSummaryAsync(self._conn.account),
                                   "account summary")
            values = {v.tag: v for v in rows if v.currency not in ("BASE", "")}
        try:
            net = values["NetLiquidation"]
            return AccountSummary(
                account=self.account_id, currency=str(net.currency),
                net_liquidation=convert.decimal_or_none(net.value) or _zero(),
                buying_power=convert.decimal_or_none(values["BuyingPower"].value) or _zero(),
                cash=convert.decimal_or_none(values["TotalCashValue"].value) or _zero(),
                time=datetime.now(UTC),
            )
        except KeyError as exc:
            raise BrokerUnavailable(f"TWS account values lack {exc}") from None

    def events(self) -> EventStream:
        return self._hub.subscribe()

    # -- helpers -------------------------------------------------------------------------------
    def _claim(self, trade: Any) -> None:
        self._conn.max_order_id = max(self._conn.max_order_id, int(trade.order.orderId))

    def _known_coid(self, cid: ClientOrderId) -> bool:
        """Whether ``cid`` was used for an order this adapter knows: its own, and every
        order TWS listed when this connection was made (or last re-made) or at the last
        lookup. TWS itself does not refuse a repeated orderRef, so this is the check.

        It does not re-read every open and completed order before each new order (that
        cost grew with the day's orders, and decoding them held up every placeOrder): a
        cOID the journal has just created cannot be at IBKR, and before the service ever
        sends a cOID again it looks that order up afresh (``order()``), which re-reads.
        """
        return cid in self._book.reports or any(t.order.orderRef == cid for t in self.ib.trades())

    async def _own_trade(self, cid: ClientOrderId) -> Any:
        """The live ib_async trade this client placed for ``cid`` (TWS only lets the owner
        change or cancel an order)."""
        for attempt in range(2):
            mine = [t for t in self.ib.trades() if t.order.orderRef == cid
                    and t.order.orderId > 0 and t.order.clientId == self.settings.client_id]
            if mine:
                return next((t for t in mine if not t.isDone()), mine[-1])
            if attempt == 0:
                await self._ask(self._refresh(), "open/completed orders")
        return None

    async def _await(self, outcome: Callable[[], T | None], generation: int,
                     cid: ClientOrderId | None) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.request_timeout_s
        while True:
            result = outcome()
            if result is not None:
                return result
            if self._conn.generation != generation:
                raise OutcomeUnknown(cid, "the TWS socket dropped before the answer arrived")
            if loop.time() > deadline:
                raise OutcomeUnknown(cid, "TWS did not answer in time")
            # Cleared after the look with no await in between: a message that arrives after
            # the look always wakes this waiter, one that arrived before was seen by it.
            self._answered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answered.wait(), POLL_S)


def _zero() -> Decimal:
    return Decimal(0)
