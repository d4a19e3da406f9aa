"""`ExecutionService`: the one seam between the OMS and its callers (HTTP API, CLI, demo).

Why a facade: the API codes against these signatures only (see /work/service-contract.md),
so the journal, the single writer and reconciliation can change behind it freely. Every
method returns frozen views of plain values; nothing returned can mutate state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import TYPE_CHECKING

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.signals import Signal
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

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from catalyst_ibkr.service.oms.engine import Oms

__all__ = ["ExecutionService"]


class ExecutionService:
    """Signals in, orders out, positions and risk watched. Build with `bootstrap.build_service`."""

    def __init__(self, oms: Oms, metrics: CollectorRegistry) -> None:
        self._oms = oms
        self.metrics = metrics

    @property
    def oms(self) -> Oms:
        """The engine behind the facade: tests drive `run_once()` with a fake clock; the API
        should not need it."""
        return self._oms

    async def start(self) -> None:
        """Migrate, load the journal, then (in the background) the startup barrier and workers."""
        await self._oms.start()

    async def stop(self) -> None:
        await self._oms.stop()

    async def submit_signal(self, signal: Signal, *, body_fingerprint: str) -> SignalView:
        return await self._oms.submit_signal(signal, body_fingerprint=body_fingerprint)

    async def get_signal(self, signal_id: str) -> SignalView | None:
        return await self._oms.get_signal(signal_id)

    async def list_orders(self, *, open_only: bool = False) -> list[OrderView]:
        return await self._oms.list_orders(open_only=open_only)

    async def cancel_order(self, order_ref: str) -> CommandView:
        return await self._oms.cancel_order(order_ref)

    async def modify_order(
        self,
        order_ref: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> CommandView:
        return await self._oms.modify_order(
            order_ref, quantity=quantity, limit_price=limit_price, stop_price=stop_price
        )

    async def cancel_all(self, *, actor: str) -> CommandView:
        return await self._oms.cancel_all(actor=actor)

    async def kill(self, *, actor: str) -> KillReport:
        return await self._oms.kill(actor=actor)

    async def positions(self) -> list[PositionView]:
        return await self._oms.positions()

    async def account(self) -> AccountView:
        return await self._oms.account()

    async def risk(self) -> RiskView:
        return await self._oms.risk()

    async def set_trading_state(self, state: TradingState, *, actor: str) -> RiskView:
        return await self._oms.set_trading_state(state, actor=actor)

    def subscribe_events(self, last_event_id: int | None) -> AsyncIterator[ServiceEvent]:
        """Journaled events after `last_event_id` (None: only new ones), then live ones."""
        return self._oms.subscribe_events(last_event_id)

    def subscribe_alerts(self) -> AsyncIterator[ServiceEvent]:
        """New `alert` events only, batched (the ops webhook bridge)."""
        return self._oms.subscribe_alerts()

    def record_question(
        self, client_order_id: str, *, message_id: str | None, text: str, answered: bool | None
    ) -> None:
        """Journal an order-reply question IBKR asked and our answer (wire the Web API
        adapter's `on_question` callback here); shown on the signal's view."""
        self._oms.record_question(client_order_id, message_id=message_id, text=text,
                                  answered=answered)

    async def health(self, *, ready: bool) -> HealthView:
        return await self._oms.health(ready=ready)
