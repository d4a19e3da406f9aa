"""The session watchdog: the seed's cron script, moved inside the service and made careful.

The seed restarted IBeam whenever ``authenticated`` was false, every 15 minutes, forever.
That turns a competing login into a restart loop, alarms every night at the daily reset and
says nothing when it works again. Instead, per incident (the session unhealthy outside the
daily-reset window), the watchdog climbs a ladder, each step with backoff and a budget:

1. **reauthenticate** through the gateway (the session keeper's ``ssodh/init``, then
   ``/iserver/reauthenticate``), with exponential backoff, up to ``reauth_budget`` tries;
2. after ``grace_s``: **alert** once (key ``session``) and ask **IBeam's health server**
   (``/readyz``; if not ready, ``/activate``), then give IBeam ``ibeam_wait_s`` to log in;
3. only if configured: **restart the IBeam container** via the Docker socket proxy, at most
   once per ``restart_cooldown_s`` and ``restart_budget`` times without a healthy session in
   between; then wait ``restart_wait_s`` (IBeam needs ~2 minutes to log in);
4. budgets spent: **needs a person** (one more alert, key ``escalation``); keep watching.

A competing session (another platform holds the brokerage session) is not climbed: a restart
would log in and fight a person's TWS or phone. Unless ``take_over_competing`` is set, the
watchdog alerts and waits for the person. Inside the daily-reset window a lost session is
expected: hold (the OMS sends nothing while the broker is unhealthy), reauthenticate cheaply,
alarm nobody. When the session is healthy again, open alerts are resolved (recovery
announced) and the budgets reset.

Every duration is in IBKR seconds, divided by ``time_scale`` (simulator tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from catalyst_ibkr.adapters.webapi.errors import WebApiError
from catalyst_ibkr.adapters.webapi.pacing import Clock, SystemClock
from catalyst_ibkr.adapters.webapi.session import Health, HealthState
from catalyst_ibkr.service.alerts import Alert, Alerter, Severity

from .docker_restart import DockerRestarter
from .heartbeat import HeartbeatSource
from .ibeam import IBeamHealthClient
from .model import Action, Phase, WatchdogHealth
from .policy import (
    ESCALATION_ALERT,
    SESSION_ALERT,
    TITLES,
    WEBSOCKET_ALERT,
    ServiceState,
    SessionSource,
    WatchdogPolicy,
    _Incident,
    repairable,
)
from .reset_window import DailyResetWindow

__all__ = [
    "ESCALATION_ALERT",
    "SESSION_ALERT",
    "WEBSOCKET_ALERT",
    "ServiceState",
    "SessionSource",
    "Watchdog",
    "WatchdogPolicy",
]

log = logging.getLogger(__name__)

class Watchdog:
    """Run with ``start()``; ``step()`` is one check (tests call it directly)."""

    def __init__(
        self,
        session: SessionSource,
        alerter: Alerter,
        *,
        policy: WatchdogPolicy | None = None,
        reset_window: DailyResetWindow | None = None,
        ibeam: IBeamHealthClient | None = None,
        docker: DockerRestarter | None = None,
        heartbeat: HeartbeatSource | None = None,
        service: ServiceState | None = None,
        interlock_problem: Callable[[], str | None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.session = session
        self.alerter = alerter
        self.policy = policy or WatchdogPolicy()
        self.reset_window = reset_window
        self.ibeam = ibeam
        self.docker = docker
        self.heartbeat = heartbeat
        self.service = service
        self._interlock_problem = interlock_problem
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._incident: _Incident | None = None
        self._restarts = 0  # since the last healthy session
        self._last_restart: float | None = None
        self._actions: list[Action] = []
        self._phase = Phase.STARTING
        self._snapshot = WatchdogHealth(
            phase=Phase.STARTING,
            checked_at=None,
            session_state=HealthState.UNKNOWN.value,
            gateway_reachable=False,
            authenticated=False,
            connected=False,
            competing=False,
            last_tickle_at=None,
            last_ok_at=None,
            detail="not checked yet",
        )
        self._task: asyncio.Task[None] | None = None
        self.steps = 0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def health(self) -> WatchdogHealth:
        return self._snapshot

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="session-watchdog")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.ibeam is not None:
            await self.ibeam.aclose()

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # the watchdog must outlive any one failed check
                log.exception("watchdog check failed")
            await self._clock.sleep(self.policy.scaled(self.policy.check_interval_s))

    # -- one check ------------------------------------------------------------------------

    async def step(self) -> WatchdogHealth:
        self.steps += 1
        mono = self._clock.time()
        now = datetime.fromtimestamp(mono, tz=UTC)
        health = await self.session.check(repair=False)
        window = self.reset_window.current(now) if self.reset_window is not None else None
        if health.ok:
            await self._healthy(now)
        elif window is not None:
            self._phase = Phase.DAILY_RESET
            await self._reauthenticate(health, mono, now, hold_only=True)
        else:
            await self._unhealthy(health, mono, now)
        ws_age, ws_stale = await self._websocket(now, health)
        self._snapshot = await self._build(health, now, window is not None, ws_age, ws_stale)
        return self._snapshot

    async def view(self) -> WatchdogHealth:
        """The last check's verdict with fresh service state and ages, for readers (the
        dashboard): no gateway call, no action, no alert."""
        previous = self._snapshot
        if previous.checked_at is None:
            return previous
        now = datetime.fromtimestamp(self._clock.time(), tz=UTC)
        window = self.reset_window.current(now) if self.reset_window is not None else None
        ws_age, ws_stale = previous.ws_heartbeat_age_s, previous.ws_stale
        last = self.heartbeat() if self.heartbeat is not None else None
        if last is not None:
            ws_age = max(0.0, (now - last).total_seconds())
        fresh = await self._build(self.session.health, now, window is not None, ws_age, ws_stale)
        return replace(fresh, checked_at=previous.checked_at)

    # -- the ladder -----------------------------------------------------------------------

    async def _healthy(self, now: datetime) -> None:
        incident, self._incident = self._incident, None
        self._restarts = 0
        self._phase = Phase.HEALTHY
        if incident is not None:
            took = (now - incident.started_at).total_seconds()
            detail = f"the brokerage session is authenticated again after {took:.0f} s"
            if await self.alerter.resolve(SESSION_ALERT, detail):
                self._record(now, "recovery", True, detail)
            # one recovery message per incident: the escalation ends with the session
            await self.alerter.resolve(ESCALATION_ALERT, detail, announce=False)

    async def _unhealthy(self, health: Health, mono: float, now: datetime) -> None:
        incident = self._incident
        if incident is None:
            incident = self._incident = _Incident(started=mono, started_at=now)
            log.warning("session unhealthy (%s): %s", health.state, health.detail)
        past_grace = mono - incident.started >= self.policy.scaled(self.policy.grace_s)
        competing = health.state is HealthState.COMPETING
        if competing and not self.policy.take_over_competing:
            self._phase = Phase.COMPETING
            if past_grace:
                await self._alert(
                    SESSION_ALERT,
                    "another platform holds the IBKR brokerage session",
                    "log out of TWS / Client Portal / IBKR Mobile for this user (or set "
                    "take_over_competing); the watchdog will not restart IBeam for this",
                    now,
                )
            return
        self._phase = Phase.RECOVERING
        attempted = await self._reauthenticate(health, mono, now, hold_only=False)
        if not past_grace:
            return
        title = TITLES.get(health.state, "session lost")
        await self._alert(SESSION_ALERT, title, health.detail, now)
        if attempted or mono < incident.quiet_until:
            return  # one action per check; IBeam gets time after /activate or a restart
        if await self._ibeam_step(incident, mono, now):
            return
        if await self._restart_step(incident, mono, now):
            return
        budget = self.policy.reauth_budget
        if repairable(health, self.policy) and incident.reauth_attempts < budget:
            return  # step 1 still has tries left (with backoff)
        patience = self.policy.scaled(self.policy.grace_s + self.policy.ibeam_wait_s)
        if mono - incident.started < patience:
            return  # IBeam logs in again by itself within ~2 minutes: allow that first
        self._phase = Phase.NEEDS_PERSON
        await self._alert(
            ESCALATION_ALERT,
            "automatic session recovery exhausted; a person is needed",
            f"reauthenticate x{incident.reauth_attempts}, IBeam /activate "
            f"x{incident.ibeam_activations}, restarts x{self._restarts}; see docs/operations.md",
            now,
        )

    async def _reauthenticate(
        self, health: Health, mono: float, now: datetime, *, hold_only: bool
    ) -> bool:
        """Step 1, only for a portal session without a usable brokerage session.

        True if an attempt was made in this check.
        """
        if not repairable(health, self.policy):
            return False
        if hold_only:
            # daily reset: one cheap try per check, no budget (it is expected and harmless)
            await self._repair(now, "reauthenticate (daily reset)")
            return True
        incident = self._incident
        assert incident is not None
        if incident.reauth_attempts >= self.policy.reauth_budget or mono < incident.next_reauth:
            return False
        incident.reauth_attempts += 1
        backoff = min(
            self.policy.reauth_backoff_s * 2 ** (incident.reauth_attempts - 1),
            self.policy.reauth_backoff_max_s,
        )
        incident.next_reauth = mono + self.policy.scaled(backoff)
        await self._repair(now, f"reauthenticate #{incident.reauth_attempts}")
        return True

    async def _repair(self, now: datetime, label: str) -> None:
        try:
            await self.session.check(repair=True)  # classifies, then repairs
            after = await self.session.check(repair=False)  # did the repair take?
        except WebApiError as exc:
            self._record(now, "reauthenticate", False, f"{label}: {exc.message}")
            return
        self._record(now, "reauthenticate", after.ok, f"{label}: {after.state.value}")

    async def _ibeam_step(self, incident: _Incident, mono: float, now: datetime) -> bool:
        if self.ibeam is None or incident.ibeam_activations >= self.policy.ibeam_budget:
            return False
        probe = await self.ibeam.probe()
        incident.ibeam_activations += 1
        incident.quiet_until = mono + self.policy.scaled(self.policy.ibeam_wait_s)
        self._phase = Phase.IBEAM
        if probe.ready:
            # IBeam believes it is authenticated: let its own maintenance settle it
            self._record(now, "ibeam_activate", True, f"IBeam reports ready ({probe.detail})")
            return True
        ok = await self.ibeam.activate()
        self._record(now, "ibeam_activate", ok, f"/activate after {probe.detail}")
        return True

    async def _restart_step(self, incident: _Incident, mono: float, now: datetime) -> bool:
        if self.docker is None or self._restarts >= self.policy.restart_budget:
            return False
        cooldown = self.policy.scaled(self.policy.restart_cooldown_s)
        if self._last_restart is not None and mono - self._last_restart < cooldown:
            self._phase = Phase.RESTARTING
            return True  # within the cooldown: wait, never loop
        self._restarts += 1
        self._last_restart = mono
        incident.quiet_until = mono + self.policy.scaled(self.policy.restart_wait_s)
        incident.ibeam_activations = 0  # the fresh IBeam may be asked again after its wait
        self._phase = Phase.RESTARTING
        result = await self.docker.restart()
        self._record(now, "docker_restart", result.ok, result.detail)
        return True

    # -- websocket ------------------------------------------------------------------------

    async def _websocket(self, now: datetime, health: Health) -> tuple[float | None, bool]:
        """The last frame's age, and whether it is a silence worth an alert: only counted
        from when the session became healthy (a socket cannot talk without a session, and
        reconnects after it comes back)."""
        if self.heartbeat is None:
            return None, False
        last = self.heartbeat()
        if last is None:
            return None, False
        session_ok = health.ok
        age = max(0.0, (now - last).total_seconds())
        silent_for = min(age, max(0.0, (now - health.since).total_seconds()))
        stale = session_ok and silent_for > self.policy.scaled(self.policy.ws_stale_s)
        if stale:
            await self._alert(
                WEBSOCKET_ALERT,
                "the gateway websocket is silent",
                f"no frame for {age:.0f} s while the session is authenticated; order and fill "
                "updates fall back to polling until it reconnects",
                now,
                severity=Severity.WARNING,
            )
        elif WEBSOCKET_ALERT in self.alerter.active and session_ok:
            detail = f"websocket frames again (last {age:.1f} s ago)"
            if await self.alerter.resolve(WEBSOCKET_ALERT, detail):
                self._record(now, "recovery", True, detail)
        return age, stale

    # -- helpers --------------------------------------------------------------------------

    async def _alert(
        self,
        key: str,
        title: str,
        detail: str,
        now: datetime,
        *,
        severity: Severity = Severity.CRITICAL,
    ) -> None:
        if await self.alerter.raise_alert(Alert(key, severity, title, detail, at=now)):
            self._record(now, "alert", True, f"{key}: {title}")

    def _record(self, now: datetime, step: str, ok: bool, detail: str) -> None:
        log.info("watchdog %s (%s): %s", step, "ok" if ok else "failed", detail)
        self._actions.append(Action(now, step, ok, detail))
        del self._actions[:-50]

    async def _build(
        self,
        health: Health,
        now: datetime,
        in_reset: bool,
        ws_age: float | None,
        ws_stale: bool,
    ) -> WatchdogHealth:
        operator: str | None = None
        hold = not health.ok
        reasons: list[str] = []
        if in_reset and not health.ok:
            reasons.append("IBKR daily reset window")
        reconciliation: str | None = None
        last_rec: datetime | None = None
        if self.service is not None:
            try:
                risk = await self.service.risk()
                view = await self.service.health(ready=True)
            except Exception as exc:  # the service may be starting; report, do not fail
                log.debug("service state unavailable: %s", exc)
            else:
                operator = risk.trading_state
                hold = hold or risk.broker_hold
                reasons.extend(r for r in risk.hold_reasons if r not in reasons)
                reconciliation = "complete" if view.startup_complete else "pending"
                last_rec = view.last_reconciliation_at
        interlock = self._interlock_problem() if self._interlock_problem is not None else None
        incident = self._incident
        next_reset = self.reset_window.next_start(now) if self.reset_window is not None else None
        return WatchdogHealth(
            phase=self._phase,
            checked_at=now,
            session_state=health.state.value,
            gateway_reachable=health.state
            not in (HealthState.GATEWAY_DOWN, HealthState.UNKNOWN),
            authenticated=health.authenticated,
            connected=health.connected,
            competing=health.competing,
            last_tickle_at=health.last_tickle_at,
            last_ok_at=health.last_ok_at,
            detail=health.detail,
            ws_heartbeat_age_s=ws_age,
            ws_stale=ws_stale,
            in_daily_reset=in_reset,
            next_daily_reset_at=next_reset,
            hold=hold,
            hold_reasons=tuple(reasons),
            operator_state=operator,
            reconciliation_state=reconciliation,
            last_reconciliation_at=last_rec,
            unhealthy_since=incident.started_at if incident is not None else None,
            reauth_attempts=incident.reauth_attempts if incident is not None else 0,
            ibeam_activations=incident.ibeam_activations if incident is not None else 0,
            restarts=self._restarts,
            interlock_problem=interlock,
            actions=tuple(self._actions[-20:]),
            alerts_active=tuple(sorted(self.alerter.active)),
        )
