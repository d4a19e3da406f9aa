"""The session watchdog (see ``core`` for the escalation ladder) and what it is built from."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .core import ServiceState, SessionSource, Watchdog, WatchdogPolicy
from .docker_restart import DockerRestarter, RestartResult
from .heartbeat import HeartbeatSource, WsHeartbeatProbe, heartbeat_of
from .ibeam import IBeamHealthClient, IBeamProbe
from .model import Action, Phase, WatchdogHealth
from .reset_window import DailyResetWindow

if TYPE_CHECKING:
    from collections.abc import Callable

    from catalyst_ibkr.config.settings import Settings
    from catalyst_ibkr.service.alerts import Alerter

__all__ = [
    "Action",
    "DailyResetWindow",
    "DockerRestarter",
    "HeartbeatSource",
    "IBeamHealthClient",
    "IBeamProbe",
    "Phase",
    "RestartResult",
    "ServiceState",
    "SessionSource",
    "Watchdog",
    "WatchdogHealth",
    "WatchdogPolicy",
    "WsHeartbeatProbe",
    "build_watchdog",
    "heartbeat_of",
]


log = logging.getLogger(__name__)


def build_watchdog(
    settings: Settings,
    session: SessionSource,
    alerter: Alerter,
    *,
    heartbeat: HeartbeatSource | None = None,
    service: ServiceState | None = None,
    interlock_problem: Callable[[], str | None] | None = None,
) -> Watchdog:
    """The watchdog as ``[watchdog]`` configures it (IBeam and Docker steps only when set)."""
    wd = settings.watchdog
    keeper_settings = getattr(session, "settings", None)
    policy = WatchdogPolicy.from_settings(
        wd,
        time_scale=settings.pacing.time_scale,
        # the keeper does the takeover (ssodh/init compete=true); the ladder must agree
        take_over_competing=bool(getattr(keeper_settings, "take_over_competing", False)),
    )
    docker = None
    if wd.docker_restart and wd.docker_url:
        docker = DockerRestarter(wd.docker_url, wd.docker_container)
    elif wd.docker_restart:
        log.warning(
            "[watchdog] docker_restart is on but docker_url is not set; the watchdog will "
            "not restart IBeam (set docker_url to the socket proxy, e.g. http://docker-proxy:2375)"
        )
    return Watchdog(
        session,
        alerter,
        policy=policy,
        reset_window=DailyResetWindow.from_settings(
            wd.daily_reset_timezone, wd.daily_reset_start, wd.daily_reset_window_s
        ),
        ibeam=IBeamHealthClient(wd.ibeam_health_url) if wd.ibeam_health_url else None,
        docker=docker,
        heartbeat=heartbeat,
        service=service,
        interlock_problem=interlock_problem,
    )
