"""The TWS socket view of the simulator: a listener, its sessions, and the names TWS gives
engine orders.

It shares ``SimState`` (and so the engine) with the Client Portal view: an order placed
here is in ``GET /sim/state`` and the Web API's live orders, and a Web API order shows up
in ``reqAllOpenOrders`` here. Engine events are fanned out to the sessions that own the
order (and to client id 0, the "master" view), as TWS does.

Faults (``POST /sim/faults`` kind ``tws_disconnect``):
- no extra keys: every TWS socket is closed now;
- ``on`` = ``place`` | ``modify`` | ``cancel``: the next such request takes effect and then
  the socket closes before any reply (the "lost response" case);
- ``notice`` = 1101 | 1102: no socket closes; sessions get error 1100 (IB connectivity
  lost) now and ``notice`` after ``seconds`` sim seconds (default 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from ibkr_sim.engine import EngineEvent, ExecutionAdded, OrderChanged, SimOrder
from ibkr_sim.faults import Fault
from ibkr_sim.state import SimState
from ibkr_sim.tws import outgoing as out
from ibkr_sim.tws.outgoing import OrderIds
from ibkr_sim.tws.session import TwsSession

__all__ = ["TwsServer"]

_log = logging.getLogger(__name__)

NOTICE_TEXT = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and TWS has been restored- data lost.",
    1102: "Connectivity between IB and TWS has been restored- data maintained.",
}


@dataclass
class _Outage:
    restore_code: int
    until: float


class TwsServer:
    """Listens on ``host:port``; ``start``/``stop`` inside the simulator's event loop."""

    def __init__(self, state: SimState, host: str, port: int, *, poll_s: float = 0.02) -> None:
        self.state = state
        self.host = host
        self.port = port
        self.poll_s = poll_s
        self.sessions: set[TwsSession] = set()
        self._names: dict[int, OrderIds] = {}
        self._by_client: dict[tuple[int, int], int] = {}
        self._max_id: dict[int, int] = {}
        self._placing: tuple[int, int] | None = None
        self._outage: _Outage | None = None
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._unsubscribe = state.engine.subscribe(self._on_event)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        sockets = self._server.sockets or ()
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        self._unsubscribe()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for session in list(self.sessions):
            session.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = TwsSession(self, reader, writer)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            session.close()

    # -- names ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget TWS names (``POST /sim/reset`` empties the engine's book)."""
        self._names.clear()
        self._by_client.clear()

    def ids(self, order: SimOrder) -> OrderIds:
        """TWS names of an engine order: the owner's (clientId, orderId), or 0/0 for an order
        that came from the Web API; permId is the engine's order id for every view."""
        named = self._names.get(order.order_id)
        return named if named is not None else OrderIds(0, 0, order.order_id)

    def engine_id(self, client_id: int, order_id: int) -> int | None:
        return self._by_client.get((client_id, order_id))

    def parent_id(self, order: SimOrder) -> int:
        if order.parent_order_id is None:
            return 0
        named = self._names.get(order.parent_order_id)
        return named.order_id if named is not None else 0

    def next_valid_id(self, client_id: int) -> int:
        return self._max_id.get(client_id, 0) + 1

    def claim_order_id(self, client_id: int, order_id: int) -> bool:
        """False when the id is not above every id this client used (error 103)."""
        if order_id <= self._max_id.get(client_id, 0):
            return False
        self._max_id[client_id] = order_id
        return True

    def begin_placement(self, client_id: int, order_id: int) -> None:
        self._placing = (client_id, order_id)

    def end_placement(self) -> None:
        self._placing = None

    def client_in_use(self, client_id: int) -> bool:
        return any(s.client_id == client_id and not s.closed for s in self.sessions)

    # -- engine events -------------------------------------------------------------------------
    def _on_event(self, event: EngineEvent) -> None:
        if isinstance(event, OrderChanged):
            order = event.order
            if self._placing is not None and order.origin == "tws":
                client_id, order_id = self._placing
                self._placing = None  # only the order being submitted takes this name
                self._names[order.order_id] = OrderIds(order_id, client_id, order.order_id)
                self._by_client[(client_id, order_id)] = order.order_id
            elif order.origin == "cp":
                self._names.pop(order.order_id, None)  # a stale name from before a reset
            ids = self.ids(order)
            for session in self._viewers(ids):
                session.send_order(order, ids)
        elif isinstance(event, ExecutionAdded):
            ex = event.execution
            ids = self._names.get(ex.order_id) or OrderIds(0, 0, ex.order_id)
            for session in self._viewers(ids):
                session.send_execution(-1, ex, ids)
            for session in list(self.sessions):
                session.portfolio_changed(ex)

    def _viewers(self, ids: OrderIds) -> list[TwsSession]:
        return [s for s in self.sessions if s.ready and s.client_id in (ids.client_id, 0)]

    # -- faults --------------------------------------------------------------------------------
    def take_fault(self, on: str | None) -> Fault | None:
        """A pending ``tws_disconnect`` fault for this trigger (None: the immediate kinds)."""
        return self.state.faults.take_where(
            "tws_disconnect", lambda f: f.params.get("on") == on
        )

    async def _tick(self) -> None:
        while True:
            try:
                self._poll_faults()
            except Exception:
                _log.exception("TWS fault poll failed")
            await asyncio.sleep(self.poll_s)

    def _poll_faults(self) -> None:
        fault = self.take_fault(None)
        if fault is not None:
            notice = fault.params.get("notice")
            if notice is None:
                for session in list(self.sessions):
                    session.close()
            else:
                seconds = fault.seconds if fault.seconds is not None else 1.0
                self._outage = _Outage(int(notice), self.state.clock.monotonic() + seconds)
                self._broadcast_notice(1100)
        if self._outage is not None and self.state.clock.monotonic() >= self._outage.until:
            code = self._outage.restore_code
            self._outage = None
            self._broadcast_notice(code)

    def _broadcast_notice(self, code: int) -> None:
        for session in list(self.sessions):
            if session.ready:
                session.send(out.error(session.version, -1, code, NOTICE_TEXT[code]))
