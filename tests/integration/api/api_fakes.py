"""A small in-memory ExecutionService for API tests that must not depend on the OMS.

It keeps the facade's promises the API relies on (idempotency by id + fingerprint, also
under concurrency; a denial recorded, not raised; numbered, resumable events) and counts
every call that would reach the broker, so tests can prove invalid input never does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.errors import IdempotencyConflict, NotFound
from catalyst_ibkr.service.views import (
    AccountView,
    CommandView,
    HealthView,
    KillReport,
    OrderView,
    PositionView,
    RiskView,
    ServiceEvent,
    SignalView,
)

MAX_QTY = Decimal(1000)


def _now() -> datetime:
    return datetime.now(UTC)


class FakeService:
    def __init__(self) -> None:
        self.metrics = CollectorRegistry()
        self._signals_total = Counter(
            "catalyst_signals", "Signals received", ("status",), registry=self.metrics
        )
        self.signals: dict[str, tuple[str, SignalView]] = {}
        self.orders: dict[str, OrderView] = {}
        self.events: list[ServiceEvent] = []
        self.broker_calls = 0
        self.submit_calls = 0
        self.started = False
        self.stopped = False
        self.state = TradingState.ACTIVE
        self.state_actor: str | None = None
        self.ready = True
        self.submit_delay = 0.0
        self._lock: asyncio.Lock | None = None
        self._changed: asyncio.Condition | None = None

    # lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def _emit(self, kind: str, data: dict[str, object]) -> None:
        assert self._changed is not None
        async with self._changed:
            self.events.append(ServiceEvent(len(self.events) + 1, kind, _now(), data))
            self._changed.notify_all()

    # signals ---------------------------------------------------------------------------
    async def submit_signal(self, signal: Signal, *, body_fingerprint: str) -> SignalView:
        self.submit_calls += 1
        assert self._lock is not None
        async with self._lock:
            known = self.signals.get(signal.id)
            if known is not None:
                if known[0] != body_fingerprint:
                    raise IdempotencyConflict(signal.id)
                return known[1]
            await asyncio.sleep(self.submit_delay)  # widen the race window for duplicates
            view = SignalView(
                id=signal.id, status="RECEIVED", received_at=signal.received_at,
                expires_at=signal.expires_at, symbol=signal.symbol, side=str(signal.side),
                quantity=signal.quantity, order_type=str(signal.order_type),
                client_order_id=str(signal.client_order_id), limit_price=signal.limit_price,
            )
            if signal.quantity > MAX_QTY or self.state is TradingState.HALTED:
                code = "QTY_EXCEEDS_MAX" if signal.quantity > MAX_QTY else "TRADING_HALTED"
                view = replace(view, status="DENIED", risk_decision="DENIED", reason_code=code,
                               reason=f"denied: {code}")
            else:
                self.broker_calls += 1
                view = replace(view, status="SUBMITTED", risk_decision="ALLOWED",
                               broker_order_id=str(1000 + len(self.orders)))
                self.orders[view.client_order_id] = OrderView(
                    order_ref=view.client_order_id, client_order_id=view.client_order_id,
                    broker_order_id=view.broker_order_id, signal_id=view.id, parent_id=None,
                    symbol=view.symbol, conid=265598, side=view.side, quantity=view.quantity,
                    order_type=view.order_type, tif="DAY", status="SUBMITTED",
                    filled_quantity=Decimal(0), created_at=_now(), updated_at=_now(),
                    limit_price=view.limit_price,
                )
            self.signals[signal.id] = (body_fingerprint, view)
            self._signals_total.labels(view.status).inc()
        await self._emit("signal", {"signal_id": view.id, "status": view.status})
        return view

    async def get_signal(self, signal_id: str) -> SignalView | None:
        known = self.signals.get(signal_id)
        return None if known is None else known[1]

    # orders ----------------------------------------------------------------------------
    async def list_orders(self, *, open_only: bool = False) -> list[OrderView]:
        orders = list(self.orders.values())
        return [o for o in orders if o.status == "SUBMITTED"] if open_only else orders

    def _order(self, order_ref: str) -> OrderView:
        for order in self.orders.values():
            if order_ref in (order.order_ref, order.broker_order_id):
                return order
        raise NotFound("order", order_ref)

    async def cancel_order(self, order_ref: str) -> CommandView:
        order = self._order(order_ref)
        if order.status != "SUBMITTED":
            return CommandView("cancel", "REJECTED", order.order_ref, "order is not working")
        self.broker_calls += 1
        self.orders[order.order_ref] = replace(order, status="CANCELLED")
        await self._emit("order", {"order_ref": order.order_ref, "status": "CANCELLED"})
        return CommandView("cancel", "ACCEPTED", order.order_ref)

    async def modify_order(
        self, order_ref: str, *, quantity: Decimal | None = None,
        limit_price: Decimal | None = None, stop_price: Decimal | None = None,
    ) -> CommandView:
        order = self._order(order_ref)
        if quantity is not None and quantity > MAX_QTY:
            return CommandView("modify", "DENIED", order.order_ref, "too large",
                               reason_code="QTY_EXCEEDS_MAX")
        self.broker_calls += 1
        self.orders[order.order_ref] = replace(
            order, quantity=quantity or order.quantity, limit_price=limit_price or order.limit_price
        )
        return CommandView("modify", "ACCEPTED", order.order_ref)

    async def cancel_all(self, *, actor: str) -> CommandView:
        self.broker_calls += 1
        for ref, order in list(self.orders.items()):
            if order.status == "SUBMITTED":
                self.orders[ref] = replace(order, status="CANCELLED")
        return CommandView("cancel_all", "ACCEPTED", detail=f"by {actor}")

    async def kill(self, *, actor: str) -> KillReport:
        started = _now()
        await self.set_trading_state(TradingState.HALTED, actor=actor)
        await self.cancel_all(actor=actor)
        return KillReport("HALTED", "ACCEPTED", True, (), started, _now(), f"by {actor}")

    # state -----------------------------------------------------------------------------
    async def positions(self) -> list[PositionView]:
        return [PositionView(265598, "AAPL", Decimal("10"), Decimal("190.25"), Decimal("0"))]

    async def account(self) -> AccountView:
        return AccountView("DU1234567", "USD", Decimal("1000000.00"), Decimal("4000000"),
                           Decimal("1000000"), _now(), Decimal("0"))

    async def risk(self) -> RiskView:
        return RiskView(str(self.state), self.state_actor, None, False, (),
                        {"max_order_quantity": str(MAX_QTY)}, 0, 0, Decimal(0), Decimal(0),
                        Decimal(0))

    async def set_trading_state(self, state: TradingState, *, actor: str) -> RiskView:
        self.state = state
        self.state_actor = actor
        await self._emit("risk", {"trading_state": str(state), "by": actor})
        return await self.risk()

    async def subscribe_events(self, last_event_id: int | None) -> AsyncIterator[ServiceEvent]:
        assert self._changed is not None
        position = len(self.events) if last_event_id is None else last_event_id
        while True:
            async with self._changed:
                while len(self.events) <= position:
                    await self._changed.wait()
                batch = self.events[position:]
            for event in batch:
                position = event.id
                yield event

    async def health(self, *, ready: bool) -> HealthView:
        return HealthView(ok=True, ready=self.ready, startup_complete=True,
                          broker_connected=True, broker_authenticated=True,
                          broker_detail="fake", trading_state=str(self.state), hold_reasons=())
