"""The broker-outage hold is a wait, never a denial (interfaces.md "Service", docs/oms.md).

A hold that goes up while a signal is being decided (during the broker reads, or between the
journaled intent and the `place`) leaves the signal waiting: sent exactly once after the
reconnect + reconciliation, or EXPIRED with zero places when its TTL runs out first. A
restart during the hold keeps it waiting (it is a journal state, RECEIVED).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalyst_ibkr.service.facade import ExecutionService
from catalyst_ibkr.service.oms import pipeline
from catalyst_ibkr.service.oms.context import OmsContext
from oms_harness import Harness


class OutageDuringReads:
    """The memory broker, but the session drops while the decision reads the account."""

    def __init__(self, harness: Harness) -> None:
        self.inner = harness.broker
        self.harness = harness
        self.svc: ExecutionService | None = None
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def account(self) -> Any:
        answer = await self.inner.account()  # the read itself succeeded...
        if self.armed and self.svc is not None:  # ...and the session dropped as it returned
            self.armed = False
            self.harness.broker.set_health(connected=False, detail="gateway restarting")
            self.svc.oms.ctx.hold("session", "broker session not usable: gateway restarting")
        return answer


async def _status(svc: ExecutionService, sid: str) -> str:
    view = await svc.get_signal(sid)
    assert view is not None
    return view.status


async def _recover(harness: Harness, svc: ExecutionService) -> None:
    harness.broker.set_health()
    await harness.step(svc, 1)  # health ok: reconnect noticed, reconciliation due
    await harness.step(svc, 1)  # reconciled: hold cleared, waiting signals decided


async def test_a_hold_raised_during_the_decision_waits_then_sends_once(
    harness: Harness,
) -> None:
    broker = OutageDuringReads(harness)
    svc = await harness.service(broker=broker)
    broker.svc = svc
    broker.armed = True
    await harness.submit(svc, "w-1", ttl_s="120")
    await harness.step(svc)
    view = await svc.get_signal("w-1")
    assert view is not None and view.status == "RECEIVED", view
    assert view.reason_code is None and harness.places() == 0
    await harness.step(svc, 1)
    assert await _status(svc, "w-1") == "RECEIVED" and harness.places() == 0
    await _recover(harness, svc)
    assert await _status(svc, "w-1") == "SUBMITTED"
    assert harness.places() == 1 and harness.broker_orders("w-1") == 1
    await harness.step(svc, 5)
    assert harness.places() == 1  # exactly once, no resend after recovery


async def test_a_signal_whose_ttl_runs_out_in_the_hold_expires_with_no_broker_call(
    harness: Harness,
) -> None:
    broker = OutageDuringReads(harness)
    svc = await harness.service(broker=broker)
    broker.svc = svc
    broker.armed = True
    await harness.submit(svc, "w-ttl", ttl_s="5")
    await harness.step(svc)
    assert await _status(svc, "w-ttl") == "RECEIVED"
    await harness.step(svc, 10)
    assert await _status(svc, "w-ttl") == "EXPIRED"
    await _recover(harness, svc)
    assert await _status(svc, "w-ttl") == "EXPIRED"  # never sent late
    assert harness.places() == 0 and harness.broker_orders("w-ttl") == 0


async def test_a_restart_during_the_hold_keeps_the_signal_waiting(harness: Harness) -> None:
    svc = await harness.service()
    harness.broker.set_health(connected=False, detail="gateway down")
    await harness.step(svc)
    await harness.submit(svc, "w-r", ttl_s="120")
    await harness.step(svc, 1)
    assert await _status(svc, "w-r") == "RECEIVED"
    await harness.crash(svc)
    again = await harness.service()  # the broker is still down: the startup barrier holds
    await harness.step(again, 1)
    assert await _status(again, "w-r") == "RECEIVED" and harness.places() == 0
    await _recover(harness, again)
    assert await _status(again, "w-r") == "SUBMITTED"
    assert harness.places() == 1 and harness.broker_orders("w-r") == 1


@pytest.mark.parametrize("late", ["ttl", "hold"])
async def test_the_last_look_before_place_checks_ttl_and_hold(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, late: str
) -> None:
    """The intent is journaled, then (before `place`) the TTL runs out or a hold goes up."""
    real: Callable[[OmsContext, str], Any] = pipeline.send_intent

    async def delayed(ctx: OmsContext, ref: str) -> str:
        if late == "ttl":
            harness.clock.advance(10)
        else:
            harness.broker.set_health(connected=False, detail="dropped")
            ctx.hold("session", "broker session not usable: dropped")
        outcome: str = await real(ctx, ref)
        return outcome

    monkeypatch.setattr(pipeline, "send_intent", delayed)
    svc = await harness.service()
    await harness.submit(svc, "w-l", ttl_s="5")
    await harness.step(svc)
    assert harness.places() == 0
    if late == "ttl":
        assert await _status(svc, "w-l") == "EXPIRED"
        await harness.step(svc, 1)
    else:
        assert await _status(svc, "w-l") == "PENDING_SUBMIT"
        await _recover(harness, svc)  # within the TTL: the resolver sends it, same cOID
        assert await _status(svc, "w-l") == "SUBMITTED"
        assert harness.places() == 1
    assert harness.broker_orders("w-l") == (0 if late == "ttl" else 1)


async def test_waiting_signals_count_against_no_limit_until_decided_then_once(
    harness: Harness,
) -> None:
    svc = await harness.service()
    harness.broker.set_health(connected=False, detail="gateway down")
    await harness.step(svc)
    for n in range(3):
        await harness.submit(svc, f"w-n{n}", ttl_s="120")  # LMT 100.00: rests, not filled
    await harness.step(svc, 1)
    risk = await svc.risk()
    assert risk.open_orders == 0 and risk.working_notional == 0  # waiting is not an order
    await _recover(harness, svc)
    statuses = [await _status(svc, f"w-n{n}") for n in range(3)]
    assert statuses == ["SUBMITTED"] * 3
    risk = await svc.risk()
    assert risk.open_orders == 3 and risk.working_notional == 3 * 10 * 100  # each once
    assert harness.places() == 3
