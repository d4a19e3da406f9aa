"""The gateway's websocket at ``/v1/api/ws`` (cpapi.md §8).

One :class:`WsHub` per application holds the open connections and the single engine
subscription that turns ``OrderChanged``/``ExecutionAdded`` events into ``sor``/``str``
frames.  Each :class:`WsConnection` has a reader (client messages, in the request handler)
and a pump task that, every few milliseconds of real time, lets timers fire: heartbeats
every 10 *simulated* seconds (so ``--time-scale`` shortens them), market-data changes,
P&L changes, session-status changes, and the ``ws_drop``/``ws_silence`` faults.

Authentication: the cookie ``api=<session>`` (IBKR's documented form) or ``api={"session":
"<session>"}`` (ibind's form), or, after connecting without one, the text message
``{"session": "<session>"}``.  Until then the server says ``{"message":"waiting for
session"}`` and ignores topics.  Subscriptions belong to one connection and die with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

from ibkr_sim.engine import EngineEvent, Execution, ExecutionAdded, OrderChanged, SimOrder
from ibkr_sim.state import SimState
from ibkr_sim.web import ws_topics as topics
from ibkr_sim.web.errors import dumps
from ibkr_sim.web.routing import STATE_KEY

__all__ = ["HUB_KEY", "WsConnection", "WsHub", "install", "session_from_cookie"]

log = logging.getLogger("ibkr_sim.ws")

HEARTBEAT_S = 10.0
"""Seconds of simulated time between ``system`` heartbeats (recorded: every 10 s)."""
PUMP_INTERVAL_S = 0.02
"""Real seconds between two looks at timers and market data for one connection."""
PNL_MIN_INTERVAL_S = 1.0
"""``spl`` is sent at most once per simulated second (the gateway's ~1/s)."""
TIC_REPLIES = 4
"""The recorded gateway answers every ``tic`` four times."""
WS_PATHS = ("/v1/api/ws", "/v1/portal/ws")


ORDERS_LOOKBACK = timedelta(hours=24)


def _status_key(text: str) -> str:
    """``Submitted``, ``submitted`` and REST's ``pre_submitted`` style all compare equal."""
    return text.replace("_", "").lower()


def session_from_cookie(header: str) -> str | None:
    """The session id in a ``Cookie`` header's ``api`` cookie, in either spelling.

    Parsed by hand because ibind's JSON value (quotes, a space) is not a valid RFC 6265
    cookie and the standard parser drops it.
    """
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if not sep or name.strip() != "api":
            continue
        value = value.strip()
        if value.startswith("{"):
            try:
                data = json.loads(value)
            except ValueError:
                return None
            session = data.get("session") if isinstance(data, dict) else None
            return session if isinstance(session, str) else None
        return value.strip('"') or None
    return None


@dataclass
class _MarketSub:
    fields: set[str]
    sent: dict[str, Any] = field(default_factory=dict)
    first: bool = True


class WsConnection:
    """One client's socket: its authentication, subscriptions and outgoing queue."""

    def __init__(self, hub: WsHub, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.hub = hub
        self.state = hub.state
        self.ws = ws
        self.request = request
        self.authenticated = False
        self.session_id: str | None = None
        self.market: dict[int, _MarketSub] = {}
        self.orders_sub: set[str] | None = None  # status filter; empty set = all statuses
        self.orders_sent: dict[int, dict[str, Any]] = {}
        self.trades_sub = False
        self.pnl_sub = False
        self.pnl_last: tuple[float, dict[str, Any]] | None = None
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.silent_until: float | None = None
        self.next_heartbeat = 0.0
        self.last_status: dict[str, Any] = {}
        self.closed = False

    # ------------------------------------------------------------------ sending
    def send(self, frame: dict[str, Any]) -> None:
        if not self.closed:
            self.outbox.put_nowait(dumps(frame))

    async def flush(self) -> None:
        """Write queued frames unless a ``ws_silence`` fault holds them back."""
        if self.silent_until is not None:
            if self.state.clock.monotonic() < self.silent_until:
                return
            self.silent_until = None
        while not self.outbox.empty() and not self.closed:
            await self.ws.send_str(self.outbox.get_nowait())

    def drop(self) -> None:
        """``ws_drop``: the connection dies without a close frame, as on a network fault."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    # ------------------------------------------------------------------ session
    def authenticate(self, session_id: str | None) -> bool:
        session = self.state.session
        if self.authenticated or session_id is None:
            return self.authenticated
        if not session.portal or session_id != session.session_id:
            return False
        self.authenticated = True
        self.session_id = session_id
        self.send(topics.system_frame(self.state))
        self.send(topics.account_frame(self.state))
        self.last_status = topics.status_args(self.state)
        self.send({"topic": "sts", "args": dict(self.last_status)})
        self.next_heartbeat = self.state.clock.monotonic() + HEARTBEAT_S
        return True

    def watch_session(self) -> None:
        """Send an ``sts`` update with the keys that changed; close once the session is gone."""
        session = self.state.session
        current = topics.status_args(self.state)
        changed = {k: v for k, v in current.items() if self.last_status.get(k) != v}
        if changed:
            self.last_status = current
            self.send({"topic": "sts", "args": changed})
        if not session.portal or session.session_id != self.session_id:
            # The session this socket belongs to ended (logout, restart, daily reset).
            if not changed:
                self.send({"topic": "sts", "args": {"authenticated": False}})
            self.hub.close_later(self)

    # ------------------------------------------------------------------ client messages
    def handle_text(self, text: str) -> None:
        text = text.strip()
        if not self.authenticated:
            self._handle_unauthenticated(text)
            return
        if text.startswith("{"):
            return  # a late {"session": ...}: already authenticated, nothing to do
        if text == "tic":
            reply = topics.tic_frame(self.state)
            for _ in range(TIC_REPLIES):
                self.send(reply)
            return
        if text == "ech+hb":
            self.outbox.put_nowait("ech+hb")
            return
        topic, _, rest = text.partition("+")
        handler = self._HANDLERS.get(topic)
        if handler is None:
            self._error(topic or text, f"unknown or unsupported topic {topic!r}")
            return
        handler(self, rest)

    def _handle_unauthenticated(self, text: str) -> None:
        session_id: str | None = None
        if text.startswith("{"):
            with contextlib.suppress(ValueError):
                data = json.loads(text)
                if isinstance(data, dict) and isinstance(data.get("session"), str):
                    session_id = data["session"]
        if session_id is not None and self.authenticate(session_id):
            return
        if session_id is not None:
            self._error("session", "session id does not match the gateway's current session; "
                        "POST /tickle and send its 'session'")
            return
        self.send({"message": "waiting for session"})

    def _error(self, topic: str, message: str) -> None:
        self.send({"topic": "error", "error": message, "request": topic})

    @staticmethod
    def _args(raw: str) -> dict[str, Any] | None:
        raw = raw.strip()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _smd(self, rest: str) -> None:
        target, _, raw = rest.partition("+")
        conid_text = target.split("@", 1)[0]
        args = self._args(raw)
        if not conid_text.isdigit() or args is None:
            self._error("smd", 'expected smd+CONID+{"fields":["31","84","86"]}')
            return
        conid = int(conid_text)
        fields = args.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            self._error(f"smd+{conid}", 'fields must be a list of strings like ["31","84"]')
            return
        if self.state.instrument(conid) is None:
            self._error(f"smd+{conid}", f"unknown conid {conid}")
            return
        if not self.state.session.brokerage_ok:
            self._error(f"smd+{conid}", "not authenticated")
            return
        sub = self.market.get(conid)
        if sub is None:
            self.market[conid] = _MarketSub(fields=set(fields))
        else:
            sub.fields.update(fields)  # resending adds fields; their values go out next
        self.push_market(conid)

    def _umd(self, rest: str) -> None:
        target = rest.partition("+")[0].split("@", 1)[0]
        if target.isdigit():
            self.market.pop(int(target), None)

    def _sor(self, rest: str) -> None:
        args = self._args(rest)
        if args is None:
            self._error("sor", 'expected sor+{} or sor+{"filters":["Submitted"]}')
            return
        filters = args.get("filters", [])
        if not isinstance(filters, list):
            self._error("sor", "filters must be a list of order statuses")
            return
        self.orders_sub = {_status_key(str(f)) for f in filters}
        self.orders_sent.clear()
        rows = []
        now = self.state.clock.now()
        for order in self.state.engine.orders(self.state.account_id):
            # today's book, as /iserver/account/orders shows it
            recent = not order.is_terminal or now - order.updated_at < ORDERS_LOOKBACK
            if recent and self._wants_order(order.status):
                row = topics.order_row(self.state, order)
                self.orders_sent[order.order_id] = row
                rows.append(row)
        self.send({"topic": "sor", "args": rows})

    def _wants_order(self, status: str) -> bool:
        if self.orders_sub is None:
            return False
        return not self.orders_sub or _status_key(status) in self.orders_sub

    def _uor(self, rest: str) -> None:
        self.orders_sub = None
        self.orders_sent.clear()

    def _str(self, rest: str) -> None:
        args = self._args(rest)
        if args is None:
            self._error("str", 'expected str+{"realtimeUpdatesOnly":false,"days":1}')
            return
        days = args.get("days", 1)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 7:
            self._error("str", "days must be 1..7")
            return
        realtime = bool(args.get("realtimeUpdatesOnly", args.get("realtime_updates_only")))
        self.trades_sub = True
        self.send({"topic": "str", "args": []})
        if realtime:
            return
        since = self.state.clock.now() - timedelta(days=days)
        for execution in self.state.engine.executions(self.state.account_id, since=since):
            self.push_execution_rows(execution)

    def _utr(self, rest: str) -> None:
        self.trades_sub = False

    def _spl(self, rest: str) -> None:
        self.pnl_sub = True
        self.pnl_last = None
        self.push_pnl()

    def _upl(self, rest: str) -> None:
        self.pnl_sub = False

    _HANDLERS: ClassVar[dict[str, Callable[[WsConnection, str], None]]] = {
        "smd": _smd, "umd": _umd, "sor": _sor, "uor": _uor, "str": _str, "utr": _utr,
        "spl": _spl, "upl": _upl,
    }

    # ------------------------------------------------------------------ pushes
    def push_market(self, conid: int) -> None:
        sub = self.market.get(conid)
        if sub is None:
            return
        values = topics.market_values(self.state, conid, sub.fields)
        changed = {k: v for k, v in values.items() if sub.sent.get(k) != v}
        if not changed and not sub.first:
            return
        sub.sent.update(values)
        server_id = self.state.memory().server_id(conid)
        frame: dict[str, Any] = dict(values if sub.first else changed)
        frame.update({
            "server_id": server_id, "conidEx": str(conid), "conid": conid,
            "_updated": topics.now_ms(self.state), "6119": server_id, "topic": f"smd+{conid}",
        })
        sub.first = False
        self.send(frame)

    def push_order(self, order: SimOrder) -> None:
        if self.orders_sub is None:
            return
        row = topics.order_row(self.state, order)
        previous = self.orders_sent.get(order.order_id)
        if previous is None:
            if not self._wants_order(order.status):
                return
            self.orders_sent[order.order_id] = row
            self.send({"topic": "sor", "args": [row]})
            return
        delta = topics.order_delta(previous, row)
        self.orders_sent[order.order_id] = row
        if delta is not None:
            self.send({"topic": "sor", "args": [delta]})

    def push_execution_rows(self, execution: Execution) -> None:
        if not self.trades_sub:
            return
        bare, full = topics.trade_rows(self.state, execution)
        self.send({"topic": "str", "args": [bare]})
        self.send({"topic": "str", "args": [full]})

    def push_pnl(self) -> None:
        if not self.pnl_sub:
            return
        mono = self.state.clock.monotonic()
        if self.pnl_last is not None and mono - self.pnl_last[0] < PNL_MIN_INTERVAL_S:
            return
        args = topics.pnl_args(self.state)
        if self.pnl_last is not None and self.pnl_last[1] == args:
            return
        self.pnl_last = (mono, args)
        self.send({"topic": "spl", "args": args})

    # ------------------------------------------------------------------ timers
    def tick(self) -> None:
        """Everything time-driven for this connection (called by the pump)."""
        if not self.authenticated or self.closed:
            return
        self.watch_session()
        mono = self.state.clock.monotonic()
        silent = self.silent_until is not None and mono < self.silent_until
        if mono >= self.next_heartbeat:
            if not silent:  # a silent socket sends nothing, heartbeats included
                self.send(topics.heartbeat_frame(self.state))
            # keep the 10 s cadence without drift; after a clock jump, start afresh
            self.next_heartbeat += HEARTBEAT_S
            if self.next_heartbeat <= mono:
                self.next_heartbeat = mono + HEARTBEAT_S
        if self.state.session.brokerage_ok:
            for conid in list(self.market):
                self.push_market(conid)
        self.push_pnl()


class WsHub:
    """All open sockets of one simulator, and the engine events fanned out to them."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self.connections: set[WsConnection] = set()
        self._closing: set[WsConnection] = set()
        state.engine.subscribe(self._on_engine_event)

    def _on_engine_event(self, event: EngineEvent) -> None:
        for conn in tuple(self.connections):
            if not conn.authenticated:
                continue
            if isinstance(event, OrderChanged) and event.order.account == self.state.account_id:
                conn.push_order(event.order)
            elif (
                isinstance(event, ExecutionAdded)
                and event.execution.account == self.state.account_id
            ):
                conn.push_execution_rows(event.execution)

    def apply_faults(self) -> None:
        """``ws_drop`` closes every open socket; ``ws_silence`` mutes every one for a while."""
        if not self.connections:
            return
        if self.state.faults.take("ws_drop") is not None:
            for conn in tuple(self.connections):
                conn.drop()
        silence = self.state.faults.take("ws_silence")
        if silence is not None:
            until = self.state.clock.monotonic() + (silence.seconds or 0.0)
            for conn in self.connections:
                conn.silent_until = until

    def close_later(self, conn: WsConnection) -> None:
        self._closing.add(conn)

    def take_closing(self, conn: WsConnection) -> bool:
        if conn in self._closing:
            self._closing.discard(conn)
            return True
        return False

    async def shutdown(self) -> None:
        for conn in tuple(self.connections):
            conn.closed = True
            with contextlib.suppress(Exception):
                await conn.ws.close()


HUB_KEY: web.AppKey[WsHub] = web.AppKey("ibkr_sim_ws_hub", WsHub)


async def _pump(conn: WsConnection) -> None:
    hub = conn.hub
    try:
        while not conn.closed:
            conn.state.step()
            hub.apply_faults()
            conn.tick()
            await conn.flush()
            if hub.take_closing(conn):
                conn.closed = True
                await conn.ws.close()
                return
            await asyncio.sleep(PUMP_INTERVAL_S)
    except (ConnectionError, RuntimeError) as exc:  # the peer went away mid-write
        log.debug("websocket pump ended: %s", exc)


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    """``GET /v1/api/ws``: upgrade, authenticate, then serve topics until either side closes."""
    hub = request.app[HUB_KEY]
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    conn = WsConnection(hub, ws, request)
    hub.connections.add(conn)
    pump = asyncio.create_task(_pump(conn))
    try:
        if not conn.authenticate(session_from_cookie(request.headers.get("Cookie", ""))):
            conn.send({"message": "waiting for session"})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                conn.handle_text(message.data)
            elif message.type == WSMsgType.ERROR:
                break
            if conn.closed:
                break
    finally:
        conn.closed = True
        hub.connections.discard(conn)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
        if not ws.closed and request.transport is not None and not request.transport.is_closing():
            with contextlib.suppress(Exception):
                await ws.close()
    return ws


def install(app: web.Application) -> None:
    """Register the websocket route and its hub on the application."""
    hub = WsHub(app[STATE_KEY])
    app[HUB_KEY] = hub
    for path in WS_PATHS:
        app.router.add_get(path, websocket_handler)

    async def _close_sockets(_: web.Application) -> None:
        await hub.shutdown()

    app.on_shutdown.append(_close_sockets)
