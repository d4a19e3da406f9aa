"""The watchdog against the simulator's session faults, over real loopback sockets.

Each test injects one fault (expire_session, competing_session, daily_reset, restart,
ws_silence) and drives ``Watchdog.step()`` until the session is healthy again, then checks
the alerts the webhook receiver got (exactly one alert and one recovery where configured,
none where the condition is planned or fixed within the grace) and what the watchdog did.
IBeam's health server and the Docker Engine API are loopback fakes (tests/ops_receivers.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalyst_ibkr.adapters.webapi.session import KeeperSettings
from catalyst_ibkr.adapters.webapi.stack import PacingSettings, WebApiStack, open_stack
from catalyst_ibkr.adapters.webapi.tls import TlsSettings
from catalyst_ibkr.config.sections_ops import AlertsSettings
from catalyst_ibkr.service.alerts import Alerter
from catalyst_ibkr.service.watchdog import (
    DailyResetWindow,
    DockerRestarter,
    IBeamHealthClient,
    Phase,
    Watchdog,
    WatchdogHealth,
    WatchdogPolicy,
    WsHeartbeatProbe,
)
from ops_receivers import (
    LoopbackServer,
    fake_docker_engine,
    fake_ibeam_health,
    webhook_receiver,
)
from sim_fixtures import RunningSim

Condition = Callable[[WatchdogHealth], bool]


_ALERTERS: list[Alerter] = []
_WATCHDOGS: list[Watchdog] = []


@pytest.fixture
async def receiver() -> AsyncIterator[LoopbackServer]:
    server = await webhook_receiver().start()
    yield server
    while _ALERTERS:
        await _ALERTERS.pop().aclose()
    while _WATCHDOGS:
        await _WATCHDOGS.pop().stop()
    await server.stop()


@pytest.fixture
async def servers() -> AsyncIterator[list[LoopbackServer]]:
    started: list[LoopbackServer] = []
    yield started
    for server in started:
        await server.stop()


@pytest.fixture
async def stacks(tmp_path: Path) -> AsyncIterator[Callable[..., WebApiStack]]:
    opened: list[WebApiStack] = []

    def make(sim: RunningSim, *, take_over: bool = False) -> WebApiStack:
        scale = sim.options.time_scale
        stack = open_stack(
            sim.base_url,
            tls=TlsSettings(ca_file=sim.ca_file),
            pacing=PacingSettings(time_scale=50.0, state_dir=tmp_path, shared=False),
            keeper=KeeperSettings(
                time_scale=scale, take_over_competing=take_over, recover_timeout_s=2.0
            ),
        )
        opened.append(stack)
        return stack

    yield make
    for stack in opened:
        await stack.aclose()


def alerter_for(receiver: LoopbackServer) -> Alerter:
    settings = {"webhook_url": receiver.url + "/hook", "dedupe_window_s": 3600}
    alerter = Alerter(AlertsSettings.model_validate(settings))
    _ALERTERS.append(alerter)
    return alerter


def policy(**kw: Any) -> WatchdogPolicy:
    base: dict[str, Any] = {
        "check_interval_s": 0.05,
        "grace_s": 0.0,
        "reauth_backoff_s": 0.05,
        "reauth_backoff_max_s": 0.2,
        "ibeam_wait_s": 0.3,
        "restart_wait_s": 0.3,
        "restart_cooldown_s": 60.0,
        "ws_stale_s": 0.8,
    }
    base.update(kw)
    return WatchdogPolicy(**base)


async def drive(watchdog: Watchdog, until: Condition, *, timeout_s: float = 15.0) -> WatchdogHealth:
    """Step the watchdog (as its loop would) until ``until`` holds."""
    if watchdog not in _WATCHDOGS:
        _WATCHDOGS.append(watchdog)  # stopped (clients closed) after the test
    deadline = asyncio.get_running_loop().time() + timeout_s
    seen: list[str] = []
    while True:
        health = await watchdog.step()
        seen.append(health.phase.value)
        if until(health):
            return health
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; phases seen: {seen[-20:]}")
        await asyncio.sleep(0.05)


def kinds(receiver: LoopbackServer) -> list[tuple[str, str]]:
    return [(call.body["kind"], call.body["key"]) for call in receiver.calls]


def healthy(h: WatchdogHealth) -> bool:
    return h.phase is Phase.HEALTHY



# -- expire_session ----------------------------------------------------------------------


async def test_expired_session_is_reauthenticated_with_one_alert_and_recovery(
    sim: RunningSim, stacks: Callable[..., WebApiStack], receiver: LoopbackServer
) -> None:
    stack = stacks(sim)
    watchdog = Watchdog(stack.keeper, alerter_for(receiver), policy=policy(grace_s=0.0))
    assert (await watchdog.step()).phase is Phase.HEALTHY
    sim.fault("expire_session")
    lost = await watchdog.step()
    assert lost.session_state == "not_authenticated" and lost.phase is Phase.RECOVERING
    assert lost.hold and lost.reauth_attempts == 1
    assert any(a.step == "reauthenticate" for a in lost.actions)
    await drive(watchdog, healthy)
    for _ in range(3):
        await watchdog.step()  # staying healthy sends nothing more
    assert kinds(receiver) == [("alert", "session"), ("recovery", "session")]
    assert sim.state()["stats"]["requests_total"] > 0


async def test_expiry_fixed_within_the_grace_wakes_nobody(
    sim: RunningSim, stacks: Callable[..., WebApiStack], receiver: LoopbackServer
) -> None:
    stack = stacks(sim)
    watchdog = Watchdog(stack.keeper, alerter_for(receiver), policy=policy(grace_s=60.0))
    await watchdog.step()
    sim.fault("expire_session")
    await drive(watchdog, healthy)
    assert receiver.calls == []
    assert [a.step for a in watchdog.health.actions] == ["reauthenticate"]


# -- competing_session -------------------------------------------------------------------


@pytest.mark.sim_options(competing_grace_s=0.2)
async def test_competing_session_alerts_once_and_never_restarts(
    sim: RunningSim,
    stacks: Callable[..., WebApiStack],
    receiver: LoopbackServer,
    servers: list[LoopbackServer],
) -> None:
    docker = await fake_docker_engine("catalyst-ibeam").start()
    ibeam = await fake_ibeam_health(lambda: False).start()
    servers.extend([docker, ibeam])
    stack = stacks(sim)
    watchdog = Watchdog(
        stack.keeper,
        alerter_for(receiver),
        policy=policy(grace_s=0.1),
        ibeam=IBeamHealthClient(ibeam.url),
        docker=DockerRestarter(docker.url, "catalyst-ibeam"),
    )
    await watchdog.step()
    sim.fault("competing_session")
    health = await drive(watchdog, lambda h: "session" in h.alerts_active)
    assert health.phase is Phase.COMPETING and health.competing
    for _ in range(5):
        assert (await watchdog.step()).phase is Phase.COMPETING
    assert docker.calls == [] and ibeam.calls == []  # a person's login is not fought
    assert watchdog.health.reauth_attempts == 0
    # the person logs out elsewhere / takes the session back on purpose
    await stack.client.ssodh_init(compete=True)
    await drive(watchdog, healthy)
    assert kinds(receiver) == [("alert", "session"), ("recovery", "session")]


@pytest.mark.sim_options(competing_grace_s=0.2)
async def test_competing_session_taken_over_when_configured(
    sim: RunningSim, stacks: Callable[..., WebApiStack], receiver: LoopbackServer
) -> None:
    stack = stacks(sim, take_over=True)
    watchdog = Watchdog(
        stack.keeper, alerter_for(receiver), policy=policy(grace_s=30.0, take_over_competing=True)
    )
    await watchdog.step()
    sim.fault("competing_session")
    await drive(watchdog, healthy)
    assert receiver.calls == []
    assert any(a.step == "reauthenticate" and a.ok for a in watchdog.health.actions)


# -- daily_reset -------------------------------------------------------------------------


def window_around_now() -> DailyResetWindow:
    start = datetime.now(UTC) - timedelta(minutes=2)
    return DailyResetWindow.from_settings("UTC", start.strftime("%H:%M"), 3600)


async def test_daily_reset_inside_the_window_holds_without_alarm(
    sim: RunningSim, stacks: Callable[..., WebApiStack], receiver: LoopbackServer
) -> None:
    stack = stacks(sim)
    watchdog = Watchdog(
        stack.keeper,
        alerter_for(receiver),
        policy=policy(grace_s=0.0),
        reset_window=window_around_now(),
    )
    await watchdog.step()
    sim.fault("daily_reset")
    # observe the lost session without repairing, as the check does before acting
    held = await watchdog.step()
    assert held.in_daily_reset
    assert held.phase in (Phase.DAILY_RESET, Phase.HEALTHY)
    if held.phase is Phase.DAILY_RESET:
        assert held.hold and "IBKR daily reset window" in held.hold_reasons
    await drive(watchdog, healthy)
    assert receiver.calls == []  # planned: nobody is woken
    assert watchdog.health.unhealthy_since is None


async def test_daily_reset_outside_the_window_is_an_incident(
    sim: RunningSim, stacks: Callable[..., WebApiStack], receiver: LoopbackServer
) -> None:
    stack = stacks(sim)
    far = (datetime.now(UTC) + timedelta(hours=6)).strftime("%H:%M")
    watchdog = Watchdog(
        stack.keeper,
        alerter_for(receiver),
        policy=policy(grace_s=0.0),
        reset_window=DailyResetWindow.from_settings("UTC", far, 600),
    )
    await watchdog.step()
    sim.fault("daily_reset")
    assert not (await watchdog.step()).in_daily_reset
    await drive(watchdog, healthy)
    assert kinds(receiver) == [("alert", "session"), ("recovery", "session")]


# -- restart -----------------------------------------------------------------------------


@pytest.mark.sim_options(relogin_s=0.6)
async def test_gateway_restart_waits_for_ibeam_one_alert_no_container_restart(
    sim: RunningSim,
    stacks: Callable[..., WebApiStack],
    receiver: LoopbackServer,
    servers: list[LoopbackServer],
) -> None:
    docker = await fake_docker_engine("catalyst-ibeam").start()
    servers.append(docker)
    stack = stacks(sim)
    watchdog = Watchdog(
        stack.keeper,
        alerter_for(receiver),
        policy=policy(grace_s=0.1, restart_cooldown_s=60),
        docker=DockerRestarter(docker.url, "catalyst-ibeam"),
    )
    await watchdog.step()
    sim.fault("restart")
    lost = await watchdog.step()
    assert lost.session_state == "auth_pending" and lost.gateway_reachable
    assert lost.reauth_attempts == 0  # only IBeam can log in again
    await drive(watchdog, healthy)
    assert kinds(receiver) == [("alert", "session"), ("recovery", "session")]
    restarts = [c for c in docker.calls if c.path.endswith("/restart")]
    assert len(restarts) <= 1  # only if IBeam outlasted the (tiny) waits


@pytest.mark.sim_options(relogin_s=100_000)
async def test_ibeam_then_docker_restart_recovers_a_gateway_that_stays_logged_out(
    sim: RunningSim,
    stacks: Callable[..., WebApiStack],
    receiver: LoopbackServer,
    servers: list[LoopbackServer],
) -> None:
    def container_restarted() -> None:
        # a fresh IBeam logs in at once: model it as a gateway restart with no re-login wait
        sim.fault("restart", relogin_s=0)

    docker = await fake_docker_engine("catalyst-ibeam", on_restart=container_restarted).start()
    ibeam = await fake_ibeam_health(lambda: False).start()  # IBeam cannot log in by itself
    servers.extend([docker, ibeam])
    stack = stacks(sim)
    watchdog = Watchdog(
        stack.keeper,
        alerter_for(receiver),
        policy=policy(grace_s=0.1, ibeam_budget=1, ibeam_wait_s=0.2),
        ibeam=IBeamHealthClient(ibeam.url),
        docker=DockerRestarter(docker.url, "catalyst-ibeam"),
    )
    await watchdog.step()
    sim.fault("restart")
    phases: list[Phase] = []

    def record(h: WatchdogHealth) -> bool:
        phases.append(h.phase)
        return h.phase is Phase.HEALTHY

    await drive(watchdog, record, timeout_s=20)
    assert [c.path for c in ibeam.calls] == ["/livez", "/readyz", "/activate"]
    restarts = [c for c in docker.calls if c.method == "POST"]
    assert len(restarts) == 1
    assert restarts[0].path.endswith("/containers/catalyst-ibeam/restart")
    assert all("catalyst-ibeam" in c.path or c.path.endswith("/version") for c in docker.calls)
    assert Phase.IBEAM in phases and Phase.RESTARTING in phases
    assert kinds(receiver) == [("alert", "session"), ("recovery", "session")]
    steps = [a.step for a in watchdog.health.actions]
    assert steps.index("ibeam_activate") < steps.index("docker_restart")


@pytest.mark.sim_options(relogin_s=100_000)
async def test_restarts_are_budgeted_and_cooled_down_no_restart_loop(
    sim: RunningSim,
    stacks: Callable[..., WebApiStack],
    receiver: LoopbackServer,
    servers: list[LoopbackServer],
) -> None:
    docker = await fake_docker_engine("catalyst-ibeam").start()  # restarting does not help
    servers.append(docker)
    stack = stacks(sim)
    watchdog = Watchdog(
        stack.keeper,
        alerter_for(receiver),
        policy=policy(grace_s=0.0, restart_budget=2, restart_cooldown_s=0.3, restart_wait_s=0.1),
        docker=DockerRestarter(docker.url, "catalyst-ibeam"),
    )
    await watchdog.step()
    sim.fault("restart")
    await drive(watchdog, lambda h: h.phase is Phase.NEEDS_PERSON)
    for _ in range(10):
        await watchdog.step()
        await asyncio.sleep(0.05)
    restarts = [c for c in docker.calls if c.method == "POST"]
    assert len(restarts) == 2
    assert kinds(receiver) == [("alert", "session"), ("alert", "escalation")]
    assert watchdog.health.phase is Phase.NEEDS_PERSON


# -- ws_silence --------------------------------------------------------------------------


@pytest.mark.sim_options(time_scale=50)
async def test_websocket_silence_is_alerted_once_and_recovery_announced(
    sim: RunningSim, stacks: Callable[..., WebApiStack], receiver: LoopbackServer
) -> None:
    stack = stacks(sim)

    async def session_id() -> str | None:
        return (await stack.client.tickle()).session

    ctx = sim.ssl_context()
    probe = WsHeartbeatProbe(
        sim.base_url, session_id=session_id, ssl_context=ctx if not isinstance(ctx, bool) else None
    )
    probe.start()
    try:
        watchdog = Watchdog(
            stack.keeper, alerter_for(receiver), policy=policy(ws_stale_s=0.8), heartbeat=probe
        )
        await drive(watchdog, lambda h: (h.ws_heartbeat_age_s or 9.0) < 0.5)
        sim.fault("ws_silence", seconds=150)  # 3 s of real time at time scale 50
        stale = await drive(watchdog, lambda h: h.ws_stale)
        assert stale.phase is Phase.HEALTHY  # the session itself is fine
        assert stale.ws_heartbeat_age_s is not None and stale.ws_heartbeat_age_s > 0.8
        await drive(watchdog, lambda h: not h.ws_stale and "websocket" not in h.alerts_active)
    finally:
        await probe.stop()
    assert kinds(receiver) == [("alert", "websocket"), ("recovery", "websocket")]


