"""One TWS API connection that stays up: connect, hold, reconnect with backoff, re-reconcile.

Why a separate object: the rules for when orders may flow (reliability (a) 38, (b) 18-19)
are about the socket and IB's connectivity notices, not about any one command:

- socket lost -> not ready; reconnect with exponential backoff; after the startup sync the
  broker re-reconciles (open/completed orders, executions) before it is ready again;
- 1100 (TWS lost IB) -> hold: the socket stays, nothing new is sent; 1101/1102 -> re-reconcile,
  then release (1101 also means market data subscriptions were lost: the adapter only takes
  snapshots, so there is nothing to resubscribe);
- 2103-2108 and 2157/2158 (data farm status) are logged only: they never touch the order
  channel;
- 326 (client id in use) on the first connect is a configuration error worth stopping for;
  during a reconnect it usually means TWS has not yet dropped our old socket, so we retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ib_async import IB

from catalyst_ibkr.ports.broker import BrokerUnavailable, SessionHealth

__all__ = ["DATA_FARM_CODES", "TwsConnection", "TwsSettings"]

_log = logging.getLogger(__name__)

DATA_FARM_CODES = frozenset({2103, 2104, 2105, 2106, 2107, 2108, 2157, 2158})
CLIENT_ID_IN_USE = 326
#: ib_async throttles per slice of a second: max_msgs_per_s / 5 messages per 200 ms
PACING_SLICES_PER_S = 5


@dataclass(frozen=True, slots=True)
class TwsSettings:
    host: str = "127.0.0.1"
    port: int = 4001
    client_id: int = 1
    account: str | None = None
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 10.0
    reconnect_initial_s: float = 0.25
    reconnect_max_s: float = 30.0
    #: IBKR allows 50 messages/s per client; ib_async queues anything above this. It is
    #: enforced in fifths of a second (8 per 200 ms for 40/s), not as one burst per second:
    #: TWS counts on arrival, and a burst that arrives late would share TWS's window with the
    #: next one (two bursts of 45 inside one second is error 100); a late slice adds at most
    #: 8 to a window of 40. A slice still holds one signal's messages (quote, open and
    #: completed orders, placeOrder), so a lone order is never held back; tenths of a second
    #: (4 per 100 ms) delayed every placeOrder by most of 100 ms.
    max_msgs_per_s: int = 40

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"TWS port must be 1..65535, got {self.port}")
        if not 0 <= self.client_id <= 2**31 - 1:
            raise ValueError(f"client id must be a non-negative integer, got {self.client_id}")
        if not 10 <= self.max_msgs_per_s <= 50:
            raise ValueError("max_msgs_per_s must be 10..50 (IBKR disconnects clients above 50)")


class TwsConnection:
    """Owns the ib_async ``IB`` object. ``ib`` is Any on purpose: ib_async is untyped and its
    objects must not leak past the adapter."""

    def __init__(
        self,
        settings: TwsSettings,
        *,
        reconcile: Callable[[], Awaitable[None]],
        on_health: Callable[[SessionHealth], None],
        on_error: Callable[[int, int, str], None],
    ) -> None:
        self.settings = settings
        self.ib: Any = IB()
        client: Any = self.ib.client  # ib_async types RequestsInterval as int; it takes floats
        client.MaxRequests = max(1, settings.max_msgs_per_s // PACING_SLICES_PER_S)
        client.RequestsInterval = 1 / PACING_SLICES_PER_S
        self.account: str = settings.account or ""
        self.generation = 0  # bumps on every socket loss: an answer from before is lost
        self.held = False
        self.detail = "not connected"
        self.max_order_id = 0
        self._reconcile = reconcile
        self._on_health = on_health
        self._on_error = on_error
        self._ready = asyncio.Event()
        self._closing = False
        self._opened = False
        self._client_id_in_use = False
        self._reconnector: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_ib_error

    # -- state ---------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return bool(self.ib.isConnected()) and self._ready.is_set()

    def health(self) -> SessionHealth:
        ok = self.connected and not self.held
        return SessionHealth(connected=ok, authenticated=self.connected,
                             time=datetime.now(UTC), detail="" if ok else self.detail)

    async def wait_ready(self, timeout_s: float | None = None) -> None:
        """Wait for a usable connection (reconnects included); BrokerUnavailable otherwise."""
        if self._closing:
            raise BrokerUnavailable("the TWS adapter is closed")
        timeout = self.settings.request_timeout_s if timeout_s is None else timeout_s
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            raise BrokerUnavailable(f"TWS not reachable: {self.detail}") from None

    # -- lifecycle -----------------------------------------------------------------------------
    async def open(self) -> None:
        """First connect: fail loudly (a wrong port or a taken client id is a setup error)."""
        await self._connect_once()

    async def close(self) -> None:
        self._closing = True
        self._ready.clear()
        for task in [self._reconnector, *self._background]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.ib.disconnect()

    async def _connect_once(self) -> None:
        s = self.settings
        self._client_id_in_use = False
        self.detail = f"connecting to {s.host}:{s.port} as client {s.client_id}"
        try:
            await self.ib.connectAsync(s.host, s.port, clientId=s.client_id,
                                       timeout=s.connect_timeout_s, account=s.account or "")
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.ib.disconnect()
            if self._client_id_in_use:
                raise BrokerUnavailable(
                    f"TWS client id {s.client_id} is already in use (error 326): another "
                    "program is connected with it; choose a different --client-id"
                ) from exc
            raise BrokerUnavailable(
                f"cannot connect to TWS/IB Gateway at {s.host}:{s.port}: "
                f"{exc or type(exc).__name__}; check that it runs and that API socket "
                "clients are enabled on that port"
            ) from exc
        accounts = list(self.ib.managedAccounts())
        if not self.account:
            self.account = accounts[0] if accounts else ""
        # Never reuse an order id, even if TWS's nextValidId went backwards (reliability 26).
        self.ib.client.updateReqId(self.max_order_id + 1)
        self.held = False
        try:
            await self._reconcile()
        except (TimeoutError, ConnectionError) as exc:
            self.ib.disconnect()
            raise BrokerUnavailable(
                f"connected to TWS at {s.host}:{s.port} but could not read its orders "
                f"({exc or type(exc).__name__}); will not trade blind"
            ) from exc
        self.detail = ""
        self._opened = True
        self._ready.set()
        self._on_health(self.health())

    def _on_disconnected(self) -> None:
        self._ready.clear()
        self.generation += 1
        if self._closing or not self._opened:
            return  # the first connect reports its own failure; nothing to resume yet
        self.detail = "socket to TWS lost; reconnecting"
        _log.warning("TWS socket lost; reconnecting with backoff")
        self._on_health(self.health())
        if self._reconnector is None or self._reconnector.done():
            self._reconnector = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = self.settings.reconnect_initial_s
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._connect_once()
                _log.info("TWS reconnected and reconciled")
                return
            except BrokerUnavailable as exc:
                self.detail = exc.detail
                _log.warning("TWS reconnect failed (%s); next try in %.2fs", exc.detail, delay)
            except Exception:  # a reconcile that failed half-way: try the whole thing again
                _log.exception("TWS reconnect/reconcile failed")
                self.ib.disconnect()
            delay = min(delay * 2, self.settings.reconnect_max_s)

    # -- IB notices ----------------------------------------------------------------------------
    def _on_ib_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        if code == CLIENT_ID_IN_USE:
            self._client_id_in_use = True
        elif code == 1100:
            self.held = True
            self.detail = "TWS lost its connection to IB (1100); holding new orders"
            self._on_health(self.health())
        elif code in (1101, 1102):
            task = asyncio.get_running_loop().create_task(self._restored(code))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        elif code in DATA_FARM_CODES:
            _log.info("TWS data farm notice %s: %s", code, message)
            return
        self._on_error(req_id, code, message)

    async def _restored(self, code: int) -> None:
        """1101/1102: the order channel is back; reconcile before trusting it again."""
        try:
            await self._reconcile()
        except Exception:
            _log.exception("reconcile after TWS notice %s failed; staying on hold", code)
            return
        self.held = False
        self.detail = ""
        self._on_health(self.health())
