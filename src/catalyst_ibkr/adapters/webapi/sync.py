"""A blocking facade over the async Web API broker, for scripts and notebooks.

Why a private event loop in a thread: the broker owns background tasks (the session keeper's
tickle, the websocket) that must keep running between a script's calls, which
``asyncio.run`` per call would tear down. Every method blocks until its coroutine finishes
on that loop and raises exactly what the async method raises::

    with open_sync_broker("https://localhost:5000", settings) as ib:
        aapl = ib.resolve("AAPL")
        print(ib.quotes([aapl.conid]))
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from catalyst_ibkr.config.settings import Settings
from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.ports.broker import (
    AccountSummary,
    CancelOrder,
    CommandOutcome,
    ExecutionReport,
    ModifyOrder,
    OrderReport,
    PlaceOrder,
    PositionReport,
    SessionHealth,
)

from .broker import WebApiBroker

__all__ = ["SyncBroker", "open_sync_broker"]

T = TypeVar("T")


class SyncBroker:
    """Blocking calls onto a ``WebApiBroker`` living on its own loop thread."""

    def __init__(self, make: Any, *, timeout_s: float = 120.0) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="catalyst-ibkr-sync")
        self._thread.start()
        self._timeout_s = timeout_s
        self.broker: WebApiBroker = self._run(_build(make))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(self._timeout_s)

    def start(self, *, stream: bool = False) -> SyncBroker:
        self._run(self.broker.start(keepalive=True, stream=stream))
        return self

    def close(self) -> None:
        try:
            self._run(self.broker.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self._loop.close()

    def health(self) -> SessionHealth:
        return self._run(self.broker.health())

    def resolve(self, symbol: str, *, exchange: str | None = None) -> Instrument:
        return self._run(self.broker.resolve(symbol, exchange=exchange))

    def quotes(self, conids: Sequence[ConId]) -> Sequence[Quote]:
        return self._run(self.broker.quotes(conids))

    def place(self, request: PlaceOrder) -> CommandOutcome:
        return self._run(self.broker.place(request))

    def modify(self, request: ModifyOrder) -> CommandOutcome:
        return self._run(self.broker.modify(request))

    def cancel(self, request: CancelOrder) -> CommandOutcome:
        return self._run(self.broker.cancel(request))

    def cancel_all(self) -> CommandOutcome:
        return self._run(self.broker.cancel_all())

    def order(self, client_order_id: ClientOrderId) -> OrderReport | None:
        return self._run(self.broker.order(client_order_id))

    def open_orders(self) -> Sequence[OrderReport]:
        return self._run(self.broker.open_orders())

    def executions(self, since: datetime) -> Sequence[ExecutionReport]:
        return self._run(self.broker.executions(since))

    def positions(self) -> Sequence[PositionReport]:
        return self._run(self.broker.positions())

    def account(self) -> AccountSummary:
        return self._run(self.broker.account())


async def _build(make: Any) -> WebApiBroker:
    broker: WebApiBroker = make()  # built on the loop thread: its locks belong to that loop
    return broker


@contextmanager
def open_sync_broker(
    gateway_url: str, settings: Settings, **kwargs: Any
) -> Iterator[SyncBroker]:
    """A started ``SyncBroker`` (keepalive on, no websocket), closed on exit."""
    from catalyst_ibkr.adapters.factory import make_webapi_broker

    sync = SyncBroker(lambda: make_webapi_broker(gateway_url, settings, **kwargs))
    try:
        yield sync.start()
    finally:
        sync.close()
