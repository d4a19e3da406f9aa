"""Operations for a running service: interlock, alerts, watchdog, and what the dashboard reads.

Why a separate composition: the service factory (``api.runtime.service_stack``) needs three
lines to get all of it (``guard_broker`` before building the service, ``ops_stack`` after
starting it), and the dashboard finds it again with ``ops_for(service)`` without the
ExecutionService knowing about operations at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from catalyst_ibkr.config.settings import Settings
from catalyst_ibkr.ports.broker import Broker
from catalyst_ibkr.service.alerts import Alert, Alerter, Severity
from catalyst_ibkr.service.interlock import InterlockedBroker, PaperLiveInterlock

from . import build_watchdog
from .broker_session import BrokerSessionSource
from .core import ServiceState, SessionSource, Watchdog
from .heartbeat import heartbeat_of
from .pacing_view import pacing_headroom

__all__ = ["OpsRuntime", "guard_broker", "ops_for", "ops_stack"]

log = logging.getLogger(__name__)

_REGISTRY: weakref.WeakKeyDictionary[object, OpsRuntime] = weakref.WeakKeyDictionary()
_BACKGROUND: set[asyncio.Task[Any]] = set()


@dataclass
class OpsRuntime:
    settings: Settings
    alerter: Alerter
    interlock: PaperLiveInterlock
    watchdog: Watchdog | None = None
    governor: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    async def snapshot(self) -> dict[str, Any]:
        """What ``GET /v1/watchdog`` answers (plain JSON values)."""
        state = self.interlock.state
        watchdog = await self.watchdog.view() if self.watchdog is not None else None
        alerts = [
            {"kind": kind, "key": a.key, "severity": a.severity.value, "title": a.title,
             "detail": a.detail, "at": a.at.isoformat()}
            for kind, a in self.alerter.history[-20:]
        ]
        return {
            "mode": state.mode,
            "account": state.account,
            "interlock": {"tripped": state.tripped, "problem": state.problem},
            "watchdog": watchdog.to_json() if watchdog is not None else None,
            "pacing": [row.to_json() for row in pacing_headroom(self.governor)]
            if self.governor is not None
            else [],
            "alerts": alerts,
            "webhook": self.settings.alerts.webhook_url.masked
            if self.settings.alerts.webhook_url is not None
            else None,
        }


def ops_for(service: object) -> OpsRuntime | None:
    return _REGISTRY.get(service)


def guard_broker(settings: Settings, broker: Broker, alerter: Alerter) -> InterlockedBroker:
    """Check the paper/live interlock now (raises ``InterlockRefused``) and wrap the broker."""

    def tripped(problem: str) -> None:
        task = asyncio.get_running_loop().create_task(
            alerter.raise_alert(Alert("interlock", Severity.CRITICAL,
                                      "paper/live interlock: trading refused", problem))
        )
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    interlock = PaperLiveInterlock(settings, on_trip=tripped)
    interlock.check_start()
    return InterlockedBroker(broker, interlock)


@asynccontextmanager
async def ops_stack(
    settings: Settings,
    *,
    broker: InterlockedBroker,
    service: ServiceState,
    alerter: Alerter,
    gateway_started: asyncio.Event | None = None,
) -> AsyncIterator[OpsRuntime]:
    """Start the watchdog (if enabled) for ``service``; stop it and close alerts on exit.

    ``gateway_started``: the broker is not started yet (the gateway was not usable when the
    service started; api/gateway_wait.py); the interlock's account check waits for it.
    """
    stack = getattr(broker.inner, "stack", None)
    keeper = getattr(stack, "keeper", None)
    if keeper is not None and settings.watchdog.take_over_competing:
        keeper.settings = replace(keeper.settings, take_over_competing=True)
    session: SessionSource = keeper if keeper is not None else BrokerSessionSource(broker.inner)
    ops = OpsRuntime(
        settings=settings,
        alerter=alerter,
        interlock=broker.interlock,
        governor=getattr(stack, "governor", None),
    )
    loop = asyncio.get_running_loop()
    later: asyncio.Task[None] | None = None
    if gateway_started is None or gateway_started.is_set():
        await check_account_now(broker)
    else:
        async def check_once_started() -> None:
            await gateway_started.wait()
            await check_account_now(broker)

        later = loop.create_task(check_once_started(), name="ops-account-check")
    if settings.watchdog.enabled:
        ops.watchdog = build_watchdog(
            settings,
            session,
            alerter,
            heartbeat=heartbeat_of(getattr(broker.inner, "stream", None)),
            service=service,
            interlock_problem=lambda: broker.interlock.problem,
        )
        ops.watchdog.start()
    bridge = loop.create_task(forward_service_alerts(service, alerter), name="ops-alert-bridge")
    _REGISTRY[service] = ops
    try:
        yield ops
    finally:
        _REGISTRY.pop(service, None)
        for task in (bridge, later):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if ops.watchdog is not None:
            await ops.watchdog.stop()
        await alerter.aclose()


async def check_account_now(broker: InterlockedBroker, timeout_s: float = 10.0) -> None:
    """The interlock's start check with the account the gateway is really logged into.

    Best effort: a gateway that is still starting is checked again by every later report
    (and before the first order, by ``InterlockedBroker.place``).
    """
    try:
        await asyncio.wait_for(broker.check_gateway_accounts(), timeout_s)
        await asyncio.wait_for(broker.account(), timeout_s)
    except Exception as exc:  # starting gateway, timeout: later reports still check it
        log.info("account not readable yet for the paper/live interlock: %s", exc)


async def forward_service_alerts(service: object, alerter: Alerter) -> None:
    """Send the OMS's ``alert`` events (journaled) to the webhook, deduplicated per kind.

    The OMS decides *what* is alarming (an order left in doubt, a reconciliation mismatch,
    a rejected question); this only delivers it, so every alert reaches the same channel.
    """
    alerts_only = getattr(service, "subscribe_alerts", None)
    subscribe = getattr(service, "subscribe_events", None)
    # the alert-only stream does not decode (or wake for) every signal's event under load
    if alerts_only is not None:
        events = alerts_only()
    elif subscribe is not None:
        events = subscribe(None)
    else:
        return
    try:
        async for event in events:
            if event.kind != "alert":
                continue
            data = dict(event.data)
            kind = str(data.pop("alert", "service"))
            message = str(data.pop("message", kind))
            detail = ", ".join(f"{k}={v}" for k, v in sorted(data.items()))
            await alerter.notify(Alert(f"oms:{kind}", Severity.CRITICAL, message, detail,
                                       at=event.at))
    except asyncio.CancelledError:
        raise
    except Exception:  # the bridge must never take the service down
        log.exception("forwarding service alerts stopped")
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
