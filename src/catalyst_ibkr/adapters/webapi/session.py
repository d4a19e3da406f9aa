"""The session keeper: keep the brokerage session alive, notice when it is not, repair it.

Why: the gateway drops a session after ~5-6 idle minutes, at the daily reset, when another
platform competes, or when IBeam restarts. Without a keeper, the first sign is a 401 on an
order. The keeper tickles about once a minute (``tickle_interval_s / time_scale``), reads
``authenticated`` / ``connected`` / ``competing`` from the tickle answer and keeps a typed
``Health`` with timestamps. What it does about each state (cpapi.md §2):

=====================  =======================================================  ============
state                  meaning                                                  action
=====================  =======================================================  ============
HEALTHY                authenticated, connected, not competing                  none
NOT_AUTHENTICATED      portal session alive, brokerage session not              ssodh/init;
                       (timed out, after daily reset)                           reauthenticate
                                                                                if that fails
COMPETING              another platform holds the brokerage session            ssodh/init
                                                                                compete=true
                                                                                only if allowed
AUTH_PENDING           gateway up, no session at all (401 / "no session"):      wait: only
                       IBeam has to log in (we hold no credentials)             IBeam can
GATEWAY_DOWN           no connection (IBeam starting / stopped)                 wait
=====================  =======================================================  ============

``recover()`` is what the transport calls on a 401: one recovery at a time (concurrent
401s share it), polling until healthy or ``recover_timeout_s`` (scaled) passes. When the
session becomes healthy after not being so, ``on_new_session`` runs (the adapter uses it
for the ``/iserver/accounts`` warm-up and to make question suppression, which IBKR scopes to
one brokerage session, due again before the session's first order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from catalyst_ibkr.ports.broker import SessionHealth

from .endpoints import WebApiClient
from .errors import (
    AuthenticationPending,
    CompetingSession,
    GatewayStarting,
    NotAuthenticated,
    TransportError,
    WebApiError,
)
from .pacing import Clock, SystemClock
from .wire import AuthStatus

__all__ = ["Health", "HealthState", "KeeperSettings", "SessionKeeper"]

log = logging.getLogger(__name__)


class HealthState(StrEnum):
    UNKNOWN = "unknown"
    GATEWAY_DOWN = "gateway_down"
    AUTH_PENDING = "auth_pending"
    NOT_AUTHENTICATED = "not_authenticated"
    COMPETING = "competing"
    HEALTHY = "healthy"


@dataclass(frozen=True)
class Health:
    """The keeper's view of the session. Times are aware UTC."""

    state: HealthState
    since: datetime  # when ``state`` began
    checked_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_tickle_at: datetime | None = None
    detail: str = ""
    server_name: str | None = None
    connected: bool = False
    authenticated: bool = False
    competing: bool = False

    @property
    def ok(self) -> bool:
        return self.state is HealthState.HEALTHY

    def to_port(self) -> SessionHealth:
        """The Broker port's ``SessionHealth``."""
        return SessionHealth(
            connected=self.connected,
            authenticated=self.authenticated,
            competing=self.competing,
            time=self.checked_at or self.since,
            detail=self.detail or self.state.value,
        )


@dataclass(frozen=True)
class KeeperSettings:
    """IBKR durations in IBKR seconds; every one is divided by ``time_scale``."""

    tickle_interval_s: float = 60.0
    recover_timeout_s: float = 60.0
    poll_interval_s: float = 2.0
    time_scale: float = 1.0
    #: ssodh/init with compete=true disconnects the user's other session (TWS, mobile)
    take_over_competing: bool = False
    #: consecutive failed ssodh/init before trying /iserver/reauthenticate
    init_attempts_before_reauth: int = 2

    def scaled(self, seconds: float) -> float:
        return seconds / self.time_scale


class SessionKeeper:
    """Owns session health for one gateway; ``start()`` runs the tickle loop."""

    def __init__(
        self,
        client: WebApiClient,
        *,
        settings: KeeperSettings | None = None,
        clock: Clock | None = None,
        on_change: Callable[[Health], None] | None = None,
        on_new_session: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self.settings = settings or KeeperSettings()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._on_change = on_change
        self._on_new_session = on_new_session
        self._health = Health(HealthState.UNKNOWN, since=self._now())
        self._init_failures = 0
        self._recover_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._new_session_pending = False

    @property
    def health(self) -> Health:
        return self._health

    def attach(self) -> None:
        """Let the transport re-establish the session on a 401 (idempotent reads only)."""
        self._client.transport.on_unauthorized = self.recover

    # -- loop -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="webapi-session-keeper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Tickle and repair forever (about once a minute; faster while unhealthy)."""
        while True:
            health = await self.check()
            interval = self.settings.tickle_interval_s
            if not health.ok:
                interval = min(interval, self.settings.poll_interval_s * 5)
            await self._clock.sleep(self.settings.scaled(interval))

    # -- one check ------------------------------------------------------------------------

    async def check(self, *, repair: bool = True) -> Health:
        """Tickle once, classify, and (if ``repair``) take the one helpful action."""
        now = self._now()
        try:
            tickle = await self._client.tickle()
        except TransportError as exc:
            return self._set(HealthState.GATEWAY_DOWN, now, exc.message)
        except NotAuthenticated:
            return self._set(
                HealthState.AUTH_PENDING,
                now,
                "the gateway runs but has no session; waiting for IBeam to log in",
            )
        except WebApiError as exc:
            return self._set(HealthState.UNKNOWN, now, exc.message)
        auth = tickle.auth
        if tickle.error or auth is None:
            return self._set(
                HealthState.AUTH_PENDING,
                now,
                "no session yet; waiting for IBeam to log in",
                tickled=True,
            )
        state = _classify(auth)
        health = self._set(state, now, auth.fail or auth.message or "", auth=auth, tickled=True)
        await self._run_new_session_hook()
        if repair and state in (HealthState.NOT_AUTHENTICATED, HealthState.COMPETING):
            await self._repair(state)
        return health

    async def recover(self) -> bool:
        """Re-establish the session (after a 401). True once healthy.

        Gives up with the error that names the cause, so the user reads the right row of
        the troubleshooting table: ``CompetingSession`` at once when taking over is not
        allowed (waiting cannot help), else at the deadline ``AuthenticationPending``
        (IBeam has not logged in), ``GatewayStarting`` (no connection) or False (the
        brokerage session would not open; the caller raises its ``NotAuthenticated``).
        """
        async with self._recover_lock:
            deadline = self._clock.time() + self.settings.scaled(self.settings.recover_timeout_s)
            while True:
                health = await self.check(repair=True)
                if health.ok:
                    return True
                if health.state in (HealthState.NOT_AUTHENTICATED, HealthState.COMPETING):
                    # a repair was just attempted; see whether it took
                    health = await self._auth_status_health()
                    if health.ok:
                        return True
                if health.state is HealthState.COMPETING and not self.settings.take_over_competing:
                    raise CompetingSession(f"the session is not usable: {health.detail}")
                if self._clock.time() >= deadline:
                    log.warning("session not re-established: %s", health.detail or health.state)
                    return self._give_up(health)
                await self._clock.sleep(self.settings.scaled(self.settings.poll_interval_s))

    def _give_up(self, health: Health) -> bool:
        if health.state is HealthState.AUTH_PENDING:
            raise AuthenticationPending(f"the gateway has no session yet: {health.detail}")
        if health.state is HealthState.GATEWAY_DOWN:
            raise GatewayStarting(f"the gateway is not answering: {health.detail}")
        return False

    # -- internals ------------------------------------------------------------------------

    async def _auth_status_health(self) -> Health:
        try:
            auth = await self._client.auth_status()
        except WebApiError as exc:
            return self._set(HealthState.UNKNOWN, self._now(), exc.message)
        health = self._set(_classify(auth), self._now(), auth.fail or auth.message or "", auth=auth)
        await self._run_new_session_hook()
        return health

    async def _repair(self, state: HealthState) -> None:
        try:
            if state is HealthState.COMPETING:
                if not self.settings.take_over_competing:
                    return
                await self._client.ssodh_init(compete=True)
                return
            if self._init_failures >= self.settings.init_attempts_before_reauth:
                self._init_failures = 0
                log.info("ssodh/init did not help; calling /iserver/reauthenticate")
                await self._client.reauthenticate()
                return
            result = await self._client.ssodh_init(compete=self.settings.take_over_competing)
            self._init_failures = 0 if result.authenticated else self._init_failures + 1
        except WebApiError as exc:
            self._init_failures += 1
            log.info("session repair failed: %s", exc.message)

    def _set(
        self,
        state: HealthState,
        now: datetime,
        detail: str,
        *,
        auth: AuthStatus | None = None,
        tickled: bool = False,
    ) -> Health:
        previous = self._health
        health = replace(
            previous,
            state=state,
            since=previous.since if state is previous.state else now,
            checked_at=now,
            last_ok_at=now if state is HealthState.HEALTHY else previous.last_ok_at,
            last_tickle_at=now if tickled else previous.last_tickle_at,
            detail=detail or _DEFAULT_DETAIL[state],
            server_name=(
                auth.serverInfo.serverName
                if auth is not None and auth.serverInfo is not None
                else previous.server_name
            ),
            connected=auth.connected if auth is not None else False,
            authenticated=auth.authenticated if auth is not None else False,
            competing=auth.competing if auth is not None else False,
        )
        self._health = health
        if state is not previous.state:
            log.info("session %s -> %s: %s", previous.state, state, health.detail)
            if self._on_change is not None:
                self._on_change(health)
            if state is HealthState.HEALTHY:
                self._new_session_pending = True
        return health

    async def _run_new_session_hook(self) -> None:
        """Per-session setup, awaited so a retried request runs after the warm-up."""
        if not self._new_session_pending or self._on_new_session is None:
            return
        self._new_session_pending = False
        try:
            await self._on_new_session()
        except WebApiError as exc:
            self._new_session_pending = True  # try again on the next check
            log.warning("new-session setup failed: %s", exc.message)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), tz=UTC)


_DEFAULT_DETAIL = {
    HealthState.UNKNOWN: "not checked yet",
    HealthState.GATEWAY_DOWN: "the gateway does not answer (IBeam starting or stopped)",
    HealthState.AUTH_PENDING: "waiting for IBeam to log in",
    HealthState.NOT_AUTHENTICATED: "the brokerage session is not authenticated",
    HealthState.COMPETING: "another platform holds the brokerage session",
    HealthState.HEALTHY: "",
}


def _classify(auth: AuthStatus) -> HealthState:
    if auth.competing:
        return HealthState.COMPETING
    if auth.authenticated and auth.connected:
        return HealthState.HEALTHY
    return HealthState.NOT_AUTHENTICATED
