"""What the watchdog needs and how far it may go: its inputs as Protocols, its policy
(durations and budgets) and the per-incident bookkeeping.

Why separate from ``core``: the ladder reads best when its knobs are declared elsewhere,
and tests and the service build policies without importing the machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from catalyst_ibkr.adapters.webapi.session import Health, HealthState

if TYPE_CHECKING:
    from catalyst_ibkr.config.sections_ops import WatchdogSettings
    from catalyst_ibkr.service.views import HealthView, RiskView

__all__ = [
    "ESCALATION_ALERT",
    "SESSION_ALERT",
    "WEBSOCKET_ALERT",
    "ServiceState",
    "SessionSource",
    "WatchdogPolicy",
]

SESSION_ALERT = "session"
ESCALATION_ALERT = "escalation"
WEBSOCKET_ALERT = "websocket"


class SessionSource(Protocol):
    """The session keeper (``adapters.webapi.session.SessionKeeper``) as the watchdog uses it."""

    @property
    def health(self) -> Health: ...

    async def check(self, *, repair: bool = True) -> Health: ...


class ServiceState(Protocol):
    """The parts of ``ExecutionService`` that tell hold, operator and reconciliation state."""

    async def risk(self) -> RiskView: ...

    async def health(self, *, ready: bool) -> HealthView: ...


@dataclass(frozen=True)
class WatchdogPolicy:
    """Durations in IBKR seconds (divided by ``time_scale``); budgets are per incident."""

    check_interval_s: float = 15.0
    grace_s: float = 60.0
    reauth_backoff_s: float = 5.0
    reauth_backoff_max_s: float = 120.0
    reauth_budget: int = 6
    ibeam_wait_s: float = 120.0
    ibeam_budget: int = 2
    restart_cooldown_s: float = 900.0
    restart_wait_s: float = 180.0
    restart_budget: int = 3
    ws_stale_s: float = 60.0
    time_scale: float = 1.0
    take_over_competing: bool = False

    def scaled(self, seconds: float) -> float:
        return seconds / self.time_scale

    @classmethod
    def from_settings(
        cls, settings: WatchdogSettings, *, time_scale: float = 1.0, **overrides: float | bool
    ) -> WatchdogPolicy:
        policy = cls(
            check_interval_s=settings.check_interval_s,
            grace_s=settings.unauthenticated_grace_s,
            restart_cooldown_s=settings.restart_cooldown_s,
            time_scale=time_scale,
        )
        return replace(policy, **overrides)  # type: ignore[arg-type]


@dataclass
class _Incident:
    started: float  # clock seconds
    started_at: datetime
    reauth_attempts: int = 0
    next_reauth: float = 0.0
    ibeam_activations: int = 0
    quiet_until: float = 0.0  # after /activate or a restart: give IBeam time


def repairable(health: Health, policy: WatchdogPolicy) -> bool:
    """A portal session without a usable brokerage session: ``ssodh/init`` can fix it."""
    return health.state is HealthState.NOT_AUTHENTICATED or (
        health.state is HealthState.COMPETING and policy.take_over_competing
    )


TITLES = {
    HealthState.NOT_AUTHENTICATED: "IBKR brokerage session not authenticated",
    HealthState.AUTH_PENDING: "the gateway has no session (IBeam has not logged in)",
    HealthState.GATEWAY_DOWN: "the gateway does not answer",
    HealthState.COMPETING: "another platform holds the IBKR brokerage session",
    HealthState.UNKNOWN: "the gateway answers unexpectedly",
}
