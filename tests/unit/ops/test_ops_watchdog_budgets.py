"""The ladder's backoff and budgets with a stepped clock: no tight retry loop, no restart
loop, each step only after the one before it, and a person asked for once at the end."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from catalyst_ibkr.adapters.webapi.session import Health, HealthState
from catalyst_ibkr.config.sections_ops import AlertsSettings
from catalyst_ibkr.service.alerts import Alerter
from catalyst_ibkr.service.watchdog import IBeamHealthClient, Phase, Watchdog, WatchdogPolicy
from ops_receivers import LoopbackServer, fake_ibeam_health


class SteppedClock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def time(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class StuckSession:
    """A portal session whose brokerage session never comes back."""

    state: HealthState = HealthState.NOT_AUTHENTICATED
    repairs: list[float] = field(default_factory=list)
    clock: SteppedClock | None = None

    @property
    def health(self) -> Health:
        return Health(self.state, since=datetime.now(UTC), connected=True)

    async def check(self, *, repair: bool = True) -> Health:
        if repair and self.clock is not None:
            self.repairs.append(self.clock.t)
        return self.health


@pytest.fixture
async def ibeam() -> AsyncIterator[LoopbackServer]:
    server = await fake_ibeam_health(lambda: False).start()
    yield server
    await server.stop()


async def run(watchdog: Watchdog, clock: SteppedClock, *, seconds: float, every: float) -> None:
    end = clock.t + seconds
    while clock.t < end:
        await watchdog.step()
        clock.t += every


async def test_reauthentication_backs_off_and_stops_at_its_budget() -> None:
    clock = SteppedClock()
    session = StuckSession(clock=clock)
    alerter = Alerter(AlertsSettings())
    policy = WatchdogPolicy(grace_s=10_000, reauth_backoff_s=5, reauth_backoff_max_s=40,
                            reauth_budget=4)
    watchdog = Watchdog(session, alerter, policy=policy, clock=clock)
    await run(watchdog, clock, seconds=600, every=1)
    starts = session.repairs
    assert len(starts) == 4  # the budget, not one per check (600 checks)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == [5, 10, 20]  # exponential backoff
    assert watchdog.health.phase is Phase.RECOVERING  # still within the grace: no alarm
    assert alerter.history == []


async def test_ibeam_is_asked_within_its_budget_then_a_person_once(
    ibeam: LoopbackServer,
) -> None:
    clock = SteppedClock()
    session = StuckSession(state=HealthState.AUTH_PENDING, clock=clock)
    alerter = Alerter(AlertsSettings())
    policy = WatchdogPolicy(grace_s=30, ibeam_wait_s=120, ibeam_budget=2)
    client = IBeamHealthClient(ibeam.url)
    watchdog = Watchdog(session, alerter, policy=policy, ibeam=client, clock=clock)
    try:
        await run(watchdog, clock, seconds=1200, every=5)
    finally:
        await watchdog.stop()
    activations = [c for c in ibeam.calls if c.path == "/activate"]
    assert len(activations) == 2
    assert session.repairs == []  # no session to repair: only IBeam can log in
    assert watchdog.health.phase is Phase.NEEDS_PERSON
    sent = [(kind, alert.key) for kind, alert in alerter.history]
    assert sent == [("alert", "session"), ("alert", "escalation")]


async def test_recovery_resets_the_budgets_and_announces_once(ibeam: LoopbackServer) -> None:
    clock = SteppedClock()
    session = StuckSession(state=HealthState.AUTH_PENDING, clock=clock)
    alerter = Alerter(AlertsSettings())
    policy = WatchdogPolicy(grace_s=0, ibeam_wait_s=60, ibeam_budget=1)
    watchdog = Watchdog(session, alerter, policy=policy, ibeam=IBeamHealthClient(ibeam.url),
                        clock=clock)
    try:
        await run(watchdog, clock, seconds=100, every=5)
        session.state = HealthState.HEALTHY
        await run(watchdog, clock, seconds=20, every=5)
        assert watchdog.health.phase is Phase.HEALTHY
        session.state = HealthState.AUTH_PENDING  # a second incident gets a fresh budget
        await run(watchdog, clock, seconds=10, every=5)
    finally:
        await watchdog.stop()
    assert len([c for c in ibeam.calls if c.path == "/activate"]) == 2
    sent = [(kind, alert.key) for kind, alert in alerter.history]
    assert sent[:3] == [("alert", "session"), ("alert", "escalation"), ("recovery", "session")]
    assert sent[3:] == [("alert", "session")]
