"""Test helpers for the OMS: a service on the memory broker with a fake clock, driven step
by step, and a broker wrapper that can "crash" the caller around a place.

Imported by tests/unit/service and tests/integration/oms (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from catalyst_ibkr.adapters.memory import MemoryBroker
from catalyst_ibkr.config.loader import load_settings
from catalyst_ibkr.config.settings import Settings
from catalyst_ibkr.core.clock import FixedClock
from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.bootstrap import build_service
from catalyst_ibkr.service.facade import ExecutionService
from catalyst_ibkr.service.views import SignalView


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def settings_with(text: str = "") -> Settings:
    """Settings from TOML text (the same loader `serve` uses)."""
    return load_settings(text or None, {}).settings


@dataclass
class Harness:
    db_url: str
    clock: FixedClock = field(default_factory=FixedClock)
    broker: MemoryBroker = field(init=False)
    services: list[ExecutionService] = field(default_factory=list)
    settings: Settings = field(default_factory=lambda: settings_with())

    def __post_init__(self) -> None:
        self.broker = MemoryBroker(clock=self.clock)
        self.quote()

    def quote(self, symbol: str = "AAPL", bid: str = "100.00", ask: str = "100.02") -> None:
        self.broker.set_quote(symbol, bid=Decimal(bid), ask=Decimal(ask))

    async def service(
        self, *, started: bool = True, broker: Any = None, settings: Settings | None = None
    ) -> ExecutionService:
        svc = build_service(settings or self.settings, broker=broker or self.broker,
                            db_url=self.db_url,
                            clock=self.clock, run_workers=False)
        self.services.append(svc)
        await svc.start()
        if started:
            await svc.oms.run_once()
            await svc.oms.quiesce()
        return svc

    async def crash(self, svc: ExecutionService) -> None:
        """Drop the service as a crash would: no more work, nothing flushed beyond the journal."""
        await svc.stop()
        self.services.remove(svc)

    async def step(self, svc: ExecutionService, seconds: float = 0.0) -> None:
        if seconds:
            self.clock.advance(seconds)
            self.quote()
        await svc.oms.quiesce()
        await svc.oms.run_once()
        await svc.oms.quiesce()

    async def submit(self, svc: ExecutionService, sid: str, **fields: Any) -> SignalView:
        body: dict[str, Any] = {"id": sid, "symbol": "AAPL", "side": "BUY", "quantity": "10",
                                "order_type": "LMT", "limit_price": "100.00"}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        signal = Signal.from_mapping(body, self.clock.now())
        return await svc.submit_signal(signal, body_fingerprint=fingerprint(body))

    def broker_orders(self, sid: str, leg: str = "") -> int:
        return len(self.broker.orders_for(ClientOrderId.for_signal(SignalId(sid), leg)))

    def places(self) -> int:
        return self.broker.call_count("place")


class Crash(BaseException):
    """The process died here (BaseException: no `except Exception` in the OMS catches it)."""


class CrashingBroker:
    """Wraps the memory broker; can kill the caller just before or just after a place."""

    def __init__(self, inner: MemoryBroker) -> None:
        self.inner = inner
        self.crash_before_place = False
        self.crash_after_place = False
        self.mute_events = False  # drop stream events (a lost websocket message)
        #: places sent for a cOID IBKR already held: each one is a double send that only
        #: the broker's own cOID check caught (the OMS must never rely on that net)
        self.resends_of_landed: list[str] = []

    def events(self) -> Any:
        inner = self.inner.events()
        outer = self

        class _Muted:
            def __aiter__(self) -> Any:
                return self

            async def __anext__(self) -> Any:
                while True:
                    event = await inner.__anext__()
                    if not outer.mute_events:
                        return event

            async def aclose(self) -> None:
                await inner.aclose()

        return _Muted()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place(self, request: Any) -> Any:
        if self.crash_before_place:
            self.crash_before_place = False
            raise Crash("before place")
        if request.client_order_id in self.inner._book.by_coid:
            self.resends_of_landed.append(str(request.client_order_id))
        outcome = await self.inner.place(request)
        if self.crash_after_place:
            self.crash_after_place = False
            raise Crash("after place, before the answer was journaled")
        return outcome


async def crash_run(svc: ExecutionService) -> None:
    """Run one iteration that is expected to die with Crash."""
    with pytest.raises(Crash):
        await svc.oms.run_once()
