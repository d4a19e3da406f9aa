"""One TWS API connection: handshake, startApi, then request -> reply on the shared engine.

Why a class per connection: TWS scopes order ids, subscriptions and the client id to the
socket; when the socket goes, so do they (orders stay in the engine, named by permId).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from ibkr_sim.engine import (
    EngineRejection,
    Execution,
    OrderNotFound,
    OrderTicket,
    SimOrder,
)
from ibkr_sim.tws import outgoing as out
from ibkr_sim.tws import views
from ibkr_sim.tws.incoming import (
    BadRequest,
    PlaceRequest,
    parse_place,
    resolve,
)
from ibkr_sim.tws.outgoing import OrderIds
from ibkr_sim.tws.wire import MAGIC, Field, FrameReader, ProtocolError, encode, parse_version_range

if TYPE_CHECKING:
    from ibkr_sim.tws.server import TwsServer

__all__ = ["MAX_VERSION", "MIN_VERSION", "TwsSession"]

_log = logging.getLogger(__name__)

#: ib_async 2.1.0 accepts 157..178; 178 is what a current Gateway negotiates with it.
MIN_VERSION, MAX_VERSION = 157, 178
#: IBKR: at most 50 messages per second from one client (error 100 beyond that).
MAX_MSGS_PER_S = 50
FARM_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)


class TwsSession:
    def __init__(self, server: TwsServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.state = server.state
        self.engine = server.state.engine
        self.reader = reader
        self.writer = writer
        self.version = MAX_VERSION
        self.client_id: int | None = None
        self.ready = False
        self.closed = False
        self.muted = False
        self.positions_sub = False
        self.account_sub = False
        self._sent_times: collections.deque[float] = collections.deque()

    # -- plumbing ------------------------------------------------------------------------------
    def send(self, fields: list[Field]) -> None:
        if not self.closed and not self.muted:
            self.writer.write(encode(fields))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.ready = False
            self.writer.transport.abort()

    async def run(self) -> None:
        try:
            magic = await self.reader.readexactly(4)
            if magic != MAGIC:
                raise ProtocolError("not a TWS API client (no 'API\\0' prefix)")
            frames = FrameReader()
            handshake_done = False
            while not self.closed:
                data = await self.reader.read(65536)
                if not data:
                    return
                frames.feed(data)
                if not handshake_done:
                    raw = next(frames.raw_frames(), None)
                    if raw is None:
                        continue
                    if not self._handshake(raw):
                        return
                    handshake_done = True
                for fields in frames.frames():
                    if self.closed:
                        return
                    self._dispatch(fields)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        except ProtocolError as exc:
            _log.warning("TWS client refused: %s", exc)

    def _handshake(self, payload: bytes) -> bool:
        low, high = parse_version_range(payload)
        if high < MIN_VERSION or low > MAX_VERSION:
            _log.warning("TWS client wants versions %s..%s; the sim speaks %s..%s",
                         low, high, MIN_VERSION, MAX_VERSION)
            self.close()
            return False
        self.version = min(high, MAX_VERSION)
        now = self.state.clock.now()
        self.send([self.version, now.strftime("%Y%m%d %H:%M:%S") + " UTC"])
        return True

    # -- dispatch --------------------------------------------------------------------------------
    def _dispatch(self, fields: list[str]) -> None:
        if not fields:
            return
        try:
            msg = int(fields[0])
        except ValueError:
            return
        if msg != 71 and not self.ready:
            return  # before startApi TWS ignores requests
        if self._over_pace(fields):
            return
        self.state.step()
        handler = _HANDLERS.get(msg)
        if handler is None:
            _log.debug("TWS message %s not simulated; ignored", msg)
            return
        try:
            handler(self, fields)
        except (BadRequest, IndexError, ValueError) as exc:
            at = 1 if msg == 3 else 2  # placeOrder carries its order id first
            req = _int(fields[at]) if len(fields) > at else -1
            if msg == 3:  # an order the sim cannot take is rejected, not left pending
                self._reject(req, str(exc))
            else:
                self.send(out.error(self.version, req, 321,
                                    f"Error validating request:-'{exc}'"))

    def _over_pace(self, fields: list[str]) -> bool:
        """IBKR counts every message; over 50 per second TWS answers error 100 and drops it."""
        if not self.state.options.pacing:
            return False
        now = self.state.clock.monotonic()
        times = self._sent_times
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= MAX_MSGS_PER_S:
            self.send(out.error(
                self.version, -1, 100,
                f"Max rate of messages per second has been exceeded:max={MAX_MSGS_PER_S} "
                f"rec={len(times) + 1} (msg {fields[0]})",
            ))
            return True
        times.append(now)
        return False

    # -- session -------------------------------------------------------------------------------
    def start_api(self, fields: list[str]) -> None:
        client_id = _int(fields[2])
        if self.server.client_in_use(client_id):
            self.send(out.error(self.version, -1, 326, "Unable to connect as the client id is "
                                "already in use. Retry with a unique client id."))
            self.close()
            return
        self.client_id = client_id
        self.ready = True
        self.server.sessions.add(self)
        self.send(out.managed_accounts(self.engine.account_id))
        self.send(out.next_valid_id(self.server.next_valid_id(client_id)))
        for code, text in FARM_NOTICES:
            self.send(out.error(self.version, -1, code, text))

    # -- orders ----------------------------------------------------------------------------------
    def send_order(self, order: SimOrder, ids: OrderIds) -> None:
        parent = self.server.parent_id(order)
        self.send(out.open_order(self.version, order, ids, parent))
        self.send(out.order_status(order, ids, parent))

    def send_execution(self, req_id: int, ex: Execution, ids: OrderIds) -> None:
        order = self.engine.order(ex.order_id)
        cum = order.filled_quantity if order is not None else ex.quantity
        avg = order.avg_fill_price if order is not None and order.avg_fill_price else ex.price
        self.send(out.exec_details(self.version, req_id, ex, ids, cum, avg))
        self.send(out.commission_report(ex))

    def _my_open_orders(self, everyone: bool) -> list[SimOrder]:
        orders = [o for o in self.engine.orders(self.engine.account_id) if not o.is_terminal]
        if everyone or self.client_id == 0:
            return orders
        return [o for o in orders if self.server.ids(o).client_id == self.client_id
                and self.server.ids(o).order_id > 0]

    def open_orders(self, fields: list[str], *, everyone: bool = False) -> None:
        for order in self._my_open_orders(everyone):
            self.send_order(order, self.server.ids(order))
        self.send(out.open_order_end())

    def completed_orders(self, fields: list[str]) -> None:
        for order in self.engine.orders(self.engine.account_id):
            if order.is_terminal:
                self.send(out.completed_order(self.version, order, self.server.ids(order)))
        self.send(out.completed_orders_end())

    def place(self, fields: list[str]) -> None:
        req = parse_place(fields)
        assert self.client_id is not None
        known = self.server.engine_id(self.client_id, req.order_id)
        fault = self.server.take_fault("modify" if known is not None else "place")
        if fault is not None:
            self.muted = True  # the request takes effect; its answer is lost with the socket
        try:
            if known is not None:
                self._modify(known, req.quantity, req.limit_price, req.aux_price, req.order_id)
            else:
                self._submit(req)
        finally:
            if self.muted:
                self.close()

    def _submit(self, req: PlaceRequest) -> None:
        assert self.client_id is not None
        if not self.server.claim_order_id(self.client_id, req.order_id):
            self.send(out.error(self.version, req.order_id, 103, "Duplicate order id"))
            return
        found = resolve(self.state.universe, req.contract)
        if len(found) != 1:
            self.send(out.error(self.version, req.order_id, 200,
                                "No security definition has been found for the request"))
            return
        parent_coid = None
        if req.parent_id:
            parent_engine = self.server.engine_id(self.client_id, req.parent_id)
            parent = self.engine.order(parent_engine) if parent_engine is not None else None
            if parent is None or parent.coid is None:
                self._reject(req.order_id, f"parent order {req.parent_id} is unknown or has no "
                             "orderRef (the simulator links bracket legs by orderRef)")
                return
            parent_coid = parent.coid
        ticket = OrderTicket(
            account=req.account or self.engine.account_id, conid=found[0].conid,
            side=req.action, order_type=req.order_type, quantity=req.quantity,
            limit_price=req.limit_price if req.order_type in ("LMT", "STP_LMT") else None,
            stop_price=req.aux_price if req.order_type in ("STP", "STP_LMT") else None,
            tif=req.tif, outside_rth=req.outside_rth, coid=req.order_ref or None,
            parent_coid=parent_coid, oca_group=req.oca_group or None, origin="tws",
        )
        self.server.begin_placement(self.client_id, req.order_id)
        try:
            self.engine.submit(ticket)
        except EngineRejection as exc:
            self._reject(req.order_id, str(exc))
            return
        finally:
            self.server.end_placement()
        self.state.step()

    def _modify(self, engine_id: int, quantity: Decimal, limit: Decimal | None,
                aux: Decimal | None, order_id: int) -> None:
        order = self.engine.order(engine_id)
        assert order is not None
        try:
            self.engine.modify(
                order.account, engine_id,
                quantity=quantity if quantity != order.quantity else None,
                limit_price=limit if order.order_type in ("LMT", "STP_LMT")
                and limit != order.limit_price else None,
                stop_price=aux if order.order_type in ("STP", "STP_LMT")
                and aux != order.stop_price else None,
            )
        except EngineRejection as exc:
            self.send(out.error(self.version, order_id, 201, f"Order rejected - reason:{exc}"))
            return
        after = self.engine.order(engine_id)
        if after is not None and after == order:
            self.send_order(after, self.server.ids(after))  # TWS confirms a no-op modify too
        self.state.step()

    def _reject(self, order_id: int, reason: str) -> None:
        self.send(out.error(self.version, order_id, 201, f"Order rejected - reason:{reason}"))

    def cancel(self, fields: list[str]) -> None:
        assert self.client_id is not None
        order_id = _int(fields[2])
        engine_id = self.server.engine_id(self.client_id, order_id)
        if self.server.take_fault("cancel") is not None:
            self.muted = True
        try:
            if engine_id is None:
                self.send(out.error(self.version, order_id, 135,
                                    f"Can't find order with id ={order_id}"))
                return
            order = self.engine.order(engine_id)
            if order is None or order.is_terminal:
                self.send(out.error(self.version, order_id, 161, "Cancel attempted when order "
                                    f"is not in a cancellable state. Order permId ={engine_id}"))
                return
            try:
                self.engine.cancel(order.account, engine_id)
            except OrderNotFound:
                self.send(out.error(self.version, order_id, 135,
                                    f"Can't find order with id ={order_id}"))
                return
            self.send(out.error(self.version, order_id, 202, "Order Canceled - reason:"))
        finally:
            if self.muted:
                self.close()

    def global_cancel(self, fields: list[str]) -> None:
        self.engine.cancel_all(self.engine.account_id)

    def portfolio_changed(self, ex: Execution) -> None:
        views.portfolio_changed(self, ex)


def _int(text: str) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return int(float(text))


def _ignore(session: TwsSession, fields: list[str]) -> None:
    return None


_HANDLERS: dict[int, Callable[[TwsSession, list[str]], None]] = {
    **views.HANDLERS,
    71: TwsSession.start_api,
    5: TwsSession.open_orders,
    16: lambda s, f: s.open_orders(f, everyone=True),
    15: _ignore,
    99: TwsSession.completed_orders,
    77: _ignore,
    2: _ignore,
    3: TwsSession.place,
    4: TwsSession.cancel,
    58: TwsSession.global_cancel,
    63: _ignore,
    59: _ignore,
}
