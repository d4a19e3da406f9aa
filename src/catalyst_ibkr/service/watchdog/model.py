"""The watchdog's typed health model: everything an operator needs to judge the gateway.

Why one frozen snapshot: the dashboard, ``GET /v1/watchdog``, the logs and the tests all read
the same value, so what the page shows is exactly what the watchdog acted on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Action", "Phase", "WatchdogHealth"]


class Phase(StrEnum):
    """What the watchdog is doing about the session."""

    STARTING = "starting"  # not checked yet
    HEALTHY = "healthy"
    DAILY_RESET = "daily_reset"  # planned: holding, no alarm
    RECOVERING = "recovering"  # reauthenticating through the gateway (step 1)
    IBEAM = "ibeam"  # asked IBeam's health server to log in (step 2)
    RESTARTING = "restarting"  # restarted the IBeam container (step 3)
    COMPETING = "competing"  # another platform holds the session: a person must act
    NEEDS_PERSON = "needs_person"  # every automatic step's budget is spent


@dataclass(frozen=True)
class Action:
    """One thing the watchdog did (kept in a short history)."""

    at: datetime
    step: str  # reauthenticate | ibeam_activate | docker_restart | alert | recovery
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class WatchdogHealth:
    phase: Phase
    checked_at: datetime | None
    session_state: str  # the session keeper's HealthState value
    gateway_reachable: bool
    authenticated: bool
    connected: bool
    competing: bool
    last_tickle_at: datetime | None
    last_ok_at: datetime | None
    detail: str = ""
    ws_heartbeat_age_s: float | None = None
    ws_stale: bool = False
    in_daily_reset: bool = False
    next_daily_reset_at: datetime | None = None
    hold: bool = False
    hold_reasons: tuple[str, ...] = ()
    operator_state: str | None = None  # ACTIVE / REDUCING / HALTED, from the service
    reconciliation_state: str | None = None  # "complete" / "pending" / None (unknown)
    last_reconciliation_at: datetime | None = None
    unhealthy_since: datetime | None = None
    reauth_attempts: int = 0
    ibeam_activations: int = 0
    restarts: int = 0
    interlock_problem: str | None = None
    actions: tuple[Action, ...] = field(default=())
    alerts_active: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 strings, enums as their values."""

        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, StrEnum):
                return value.value
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            if isinstance(value, list | tuple):
                return [plain(item) for item in value]
            return value

        result: dict[str, Any] = plain(asdict(self))
        return result
