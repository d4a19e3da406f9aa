"""The part of `ExecutionService` the HTTP layer calls, as a Protocol.

Why a Protocol and not the class: tests can hand the app a small fake that counts calls,
and the routes cannot reach into the OMS behind the facade (service-contract.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

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

__all__ = ["ServiceApi"]


class ServiceApi(Protocol):
    """What the routes need; `catalyst_ibkr.service.facade.ExecutionService` provides it."""

    @property
    def metrics(self) -> CollectorRegistry: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit_signal(self, signal: Signal, *, body_fingerprint: str) -> SignalView: ...

    async def get_signal(self, signal_id: str) -> SignalView | None: ...

    async def list_orders(self, *, open_only: bool = False) -> list[OrderView]: ...

    async def cancel_order(self, order_ref: str) -> CommandView: ...

    async def modify_order(
        self,
        order_ref: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> CommandView: ...

    async def cancel_all(self, *, actor: str) -> CommandView: ...

    async def kill(self, *, actor: str) -> KillReport: ...

    async def positions(self) -> list[PositionView]: ...

    async def account(self) -> AccountView: ...

    async def risk(self) -> RiskView: ...

    async def set_trading_state(self, state: TradingState, *, actor: str) -> RiskView: ...

    def subscribe_events(self, last_event_id: int | None) -> AsyncIterator[ServiceEvent]: ...

    async def health(self, *, ready: bool) -> HealthView: ...
