"""The gateway websocket as a stream of Broker events: orders (``sor``), fills (``str``) and
session status (``sts``), kept alive through drops and silence.

Why each piece:

- Heartbeats: the gateway sends ``{"topic":"system","hb":...}`` every 10 s and wants a ``tic``
  at least once a minute. Any frame counts as life; no frame for ``silence_s`` (three missed
  heartbeats, scaled by the time scale) means the socket is dead even if TCP says otherwise.
  Then the stream refreshes the live orders over REST (updates sent into the void must not
  be lost) and reconnects and resubscribes (subscriptions never survive a reconnect).
- Order rows arrive as a full row then deltas keyed by ``orderId``; rows are merged before
  they are parsed. A delta for an order never seen in full triggers a REST refresh.
- Executions arrive twice (without, then with commission) and again after every
  resubscribe; they are published once per ``execution_id`` for the life of the stream.
- For each order, published ``filled_quantity`` never goes backwards (a stale REST row can
  arrive after a streamed fill).
- Backpressure, not drop-oldest: each subscriber has a bounded queue and the reader WAITS
  for room, which stops reading the socket and lets TCP push back on the gateway. An order
  or fill event is never discarded to make room.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from catalyst_ibkr.core.ids import ExecutionId
from catalyst_ibkr.ports.broker import (
    BrokerEvent,
    FillEvent,
    HealthEvent,
    OrderEvent,
    OrderReport,
    SessionHealth,
)

from .pacing import Clock
from .parse import execution_report, live_order_report
from .tls import TlsPlan, gateway_address, normalise_fingerprint
from .wire import LiveOrder, Trade

__all__ = ["EventFanout", "OrderStream", "StreamSettings", "StreamSubscription"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSettings:
    """IBKR durations (``*_s`` in IBKR seconds, divided by ``time_scale``) and real backoff."""

    silence_s: float = 30.0
    tic_interval_s: float = 55.0
    time_scale: float = 1.0
    reconnect_initial_s: float = 0.2
    reconnect_max_s: float = 10.0
    connect_timeout_s: float = 10.0
    queue_size: int = 10_000

    def scaled(self, seconds: float) -> float:
        return seconds / self.time_scale


# -- fan-out with backpressure --------------------------------------------------------------


class StreamSubscription:
    """One ``events()`` iterator; ``aclose()`` ends it."""

    def __init__(self, fanout: EventFanout, size: int) -> None:
        self._fanout = fanout
        self._queue: asyncio.Queue[BrokerEvent | None] = asyncio.Queue(maxsize=size)
        self._closed = False

    def __aiter__(self) -> AsyncIterator[BrokerEvent]:
        return self

    async def __anext__(self) -> BrokerEvent:
        if self._closed:
            raise StopAsyncIteration
        event = await self._queue.get()
        if event is None:
            self._closed = True
            raise StopAsyncIteration
        return event

    async def put(self, event: BrokerEvent) -> None:
        if not self._closed:
            await self._queue.put(event)  # waits for room: backpressure, never a drop

    def end(self) -> None:
        self._closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def aclose(self) -> None:
        self._closed = True
        self._fanout.remove(self)


class EventFanout:
    def __init__(self, size: int) -> None:
        self._size = size
        self._subs: list[StreamSubscription] = []

    def subscribe(self) -> StreamSubscription:
        sub = StreamSubscription(self, self._size)
        self._subs.append(sub)
        return sub

    def remove(self, sub: StreamSubscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    async def publish(self, event: BrokerEvent) -> None:
        for sub in tuple(self._subs):
            await sub.put(event)

    def close_all(self) -> None:
        for sub in self._subs:
            sub.end()
        self._subs.clear()


# -- the stream -----------------------------------------------------------------------------


class _Silence(Exception):
    """No frame within the silence window."""


def ws_url(gateway_url: str) -> str:
    scheme, host, port = gateway_address(gateway_url)
    return f"{'wss' if scheme == 'https' else 'ws'}://{host}:{port}/v1/api/ws"


def ws_ssl(plan: TlsPlan | None, gateway_url: str) -> ssl.SSLContext | None:
    """The same trust as the REST client (``--insecure`` included, which already warned)."""
    scheme, _, _ = gateway_address(gateway_url)
    if scheme != "https":
        return None
    if plan is None or plan.verify is True:
        return ssl.create_default_context()
    if plan.verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # only reachable through --insecure (tls.plan_tls)
        return ctx
    return plan.verify


class OrderStream:
    """Owns the websocket for one broker; publishes events to every subscriber."""

    def __init__(
        self,
        *,
        gateway_url: str,
        tls_plan: TlsPlan | None,
        session_id: Callable[[], Awaitable[str | None]],
        refresh_orders: Callable[[], Awaitable[Sequence[OrderReport]]],
        clock: Clock,
        settings: StreamSettings | None = None,
    ) -> None:
        self.settings = settings or StreamSettings()
        self._url = ws_url(gateway_url)
        self._plan = tls_plan
        self._ssl = ws_ssl(tls_plan, gateway_url)
        self._session_id = session_id
        self._refresh_orders = refresh_orders
        self._clock = clock
        self.fanout = EventFanout(self.settings.queue_size)
        self._task: asyncio.Task[None] | None = None
        self._rows: dict[int, dict[str, Any]] = {}
        self._emitted: dict[int, OrderReport] = {}
        self._fills: set[ExecutionId] = set()
        self._health: dict[str, Any] = {}
        self.connected = asyncio.Event()
        #: how many times the socket was (re)opened and subscribed; tests read it
        self.connections = 0
        self.silences = 0
        #: when the last frame (any frame, heartbeats included) arrived; the session
        #: watchdog shows its age and alerts on silence (service/watchdog/heartbeat.py)
        self.last_frame_at: datetime | None = None
        self._needs_refresh = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="webapi-order-stream")

    async def wait_connected(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self.connected.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=5.0)
            if not done:  # never let a stuck socket close hold up the caller's shutdown
                log.warning("the gateway websocket did not close within 5 s; abandoned")
        self.fanout.close_all()

    # -- the connection loop --------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.settings.reconnect_initial_s
        while True:
            try:
                await self._one_connection()
                delay = self.settings.reconnect_initial_s
            except asyncio.CancelledError:
                raise
            except _Silence:
                self.silences += 1
                log.warning("gateway websocket silent; refreshing orders and reconnecting")
            except (OSError, WebSocketException, TimeoutError) as exc:
                log.info("gateway websocket closed (%s); reconnecting", type(exc).__name__)
            except Exception as exc:  # the stream must outlive any one bad frame or call
                log.warning("gateway websocket error: %s", exc)
            self.connected.clear()
            await self._refresh()
            await self._clock.sleep(delay)
            delay = min(delay * 2, self.settings.reconnect_max_s)

    async def _one_connection(self) -> None:
        session = await self._session_id()
        if not session:
            raise OSError("no gateway session to open the websocket with")
        headers = {"Cookie": f"api={session}"}
        async with connect(
            self._url,
            ssl=self._ssl,
            additional_headers=headers,
            open_timeout=self.settings.connect_timeout_s,
            ping_interval=None,
            close_timeout=1.0,
            max_size=2**24,
            proxy=None,
        ) as ws:
            self._check_pin(ws)
            resubscribe = self.connections > 0
            await self._subscribe(ws, realtime_only=not resubscribe)
            self.connections += 1
            self.connected.set()
            if resubscribe or self._needs_refresh:
                await self._refresh()
            await self._read(ws, session)

    def _check_pin(self, ws: ClientConnection) -> None:
        """A pinned gateway must present exactly the pinned certificate here too."""
        pin = self._plan.pin if self._plan is not None else None
        if pin is None:
            return
        ssl_object = ws.transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        presented = normalise_fingerprint(hashlib.sha256(der).hexdigest()) if der else "none"
        if presented != pin.fingerprint:
            raise OSError(f"websocket certificate {presented} is not the pinned one")

    async def _subscribe(self, ws: ClientConnection, *, realtime_only: bool) -> None:
        await ws.send("sor+{}")
        days = json.dumps({"realtimeUpdatesOnly": realtime_only, "days": 1})
        await ws.send(f"str+{days}")

    async def _read(self, ws: ClientConnection, session: str) -> None:
        silence = self.settings.scaled(self.settings.silence_s)
        tic_every = self.settings.scaled(self.settings.tic_interval_s)
        next_tic = self._clock.time() + tic_every
        while True:
            try:
                async with asyncio.timeout(silence):  # no inner task: cancels cleanly
                    raw = await ws.recv()
            except TimeoutError as exc:
                raise _Silence from exc
            self.last_frame_at = self._now()
            if self._clock.time() >= next_tic:
                await ws.send("tic")
                next_tic = self._clock.time() + tic_every
            if not isinstance(raw, str):
                continue
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(frame, dict):
                continue
            if frame.get("message") == "waiting for session":
                await ws.send(json.dumps({"session": session}))
                await self._subscribe(ws, realtime_only=False)
                continue
            await self._handle(frame)
            if self._needs_refresh:
                await self._refresh()

    # -- frames ---------------------------------------------------------------------------

    async def _handle(self, frame: dict[str, Any]) -> None:
        topic = frame.get("topic")
        args = frame.get("args")
        if topic == "sor" and isinstance(args, list):
            for row in args:
                if isinstance(row, dict):
                    await self._order_row(row)
        elif topic == "str" and isinstance(args, list):
            for row in args:
                if isinstance(row, dict):
                    await self._trade_row(row)
        elif topic == "sts" and isinstance(args, dict):
            await self._status(args)

    async def _order_row(self, row: dict[str, Any]) -> None:
        order_id = row.get("orderId")
        if not isinstance(order_id, int | str) or not str(order_id).isdigit():
            return
        key = int(order_id)
        merged = {**self._rows.get(key, {}), **row}
        self._rows[key] = merged
        try:
            report = live_order_report(LiveOrder.model_validate(merged), self._now())
        except (ValidationError, ValueError):
            self._needs_refresh = True  # a delta for an order we never saw whole
            return
        await self.publish_report(report)

    async def _trade_row(self, row: dict[str, Any]) -> None:
        try:
            execution = execution_report(Trade.model_validate(row))
        except (ValidationError, ValueError):
            log.warning("unreadable execution row skipped")
            return
        if execution.execution_id in self._fills:
            return
        self._fills.add(execution.execution_id)
        await self.fanout.publish(FillEvent(execution))

    async def _status(self, args: dict[str, Any]) -> None:
        keys = ("connected", "authenticated", "competing")
        before = {k: self._health.get(k) for k in keys}
        self._health.update({k: v for k, v in args.items() if k in keys})
        after = {k: self._health.get(k) for k in keys}
        if before == after:
            return
        health = SessionHealth(
            connected=bool(self._health.get("connected", True)),
            authenticated=bool(self._health.get("authenticated", True)),
            competing=bool(self._health.get("competing", False)),
            time=self._now(),
            detail="gateway websocket status",
        )
        await self.fanout.publish(HealthEvent(health))

    async def publish_report(self, report: OrderReport) -> None:
        """Publish if it says something new; never let filled quantity go backwards."""
        key = int(report.broker_order_id) if str(report.broker_order_id).isdigit() else None
        if key is None:
            return
        last = self._emitted.get(key)
        if last is not None:
            if report.filled_quantity < last.filled_quantity:
                return
            same = (last.status, last.filled_quantity, last.quantity, last.limit_price,
                    last.stop_price)
            if same == (report.status, report.filled_quantity, report.quantity,
                        report.limit_price, report.stop_price):
                return
        self._emitted[key] = report
        await self.fanout.publish(OrderEvent(report))

    async def _refresh(self) -> None:
        self._needs_refresh = False
        try:
            reports = await self._refresh_orders()
        except Exception as exc:  # a refresh is best effort; the next one will try again
            log.info("order refresh after stream trouble failed: %s", exc)
            self._needs_refresh = True
            return
        for report in reports:
            await self.publish_report(report)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), tz=UTC)
