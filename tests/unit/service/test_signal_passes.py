"""How the OMS loop works signals: bounded passes, an expiry sweep over every waiting
signal, and a full iteration at most once per tick however many signals arrive.

Why these matter: a pass over a backlog of thousands of signals at the broker's pace used to
take minutes while health checks, in-flight orders and reconciliation waited behind it, and
every accepted signal woke a full iteration (journal reads of the in-flight orders among
them), which took CPU from intake under a burst.
"""

from __future__ import annotations

import asyncio

import pytest

from catalyst_ibkr.service.facade import ExecutionService
from catalyst_ibkr.service.oms import engine, pipeline
from oms_harness import Harness


def _received(svc: ExecutionService) -> int:
    return len(svc.oms.ctx.journal.signals_with_status("RECEIVED"))


async def test_a_backlog_is_decided_in_bounded_passes_that_wake_the_loop(
    harness: Harness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "PASS_LIMIT", 3)
    svc = await harness.service()
    for n in range(7):
        await harness.submit(svc, f"bp-{n}")
    ctx = svc.oms.ctx
    remaining = []
    for _ in range(3):
        ctx.wake.clear()
        moved = await pipeline.process_signals(ctx)
        remaining.append((moved, _received(svc), ctx.wake.is_set()))
    # 3 + 3 decided with more waiting (the loop is woken to go on), then the last one alone.
    assert remaining == [(3, 4, True), (3, 1, True), (1, 0, False)]
    assert harness.places() == 7


async def test_signals_behind_the_batch_expire_on_time(
    harness: Harness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "PASS_LIMIT", 3)
    svc = await harness.service()
    ctx = svc.oms.ctx
    for n in range(4):
        await harness.submit(svc, f"long-{n}", ttl_s="600")
    for n in range(2):
        await harness.submit(svc, f"short-{n}", ttl_s="5")  # behind the first batch
    harness.clock.advance(6)
    harness.quote()  # a fresh quote: the long-lived ones are decided, not denied as stale
    ctx.wake.clear()
    assert await pipeline.process_signals(ctx) == 5  # 2 expired by the sweep, 3 decided
    assert ctx.wake.is_set()  # one long-lived signal still waits
    statuses = [(await svc.get_signal(f"short-{n}")).status for n in range(2)]  # type: ignore[union-attr]
    assert statuses == ["EXPIRED", "EXPIRED"]
    assert _received(svc) == 1 and harness.places() == 3


async def test_a_mass_expiry_runs_in_bounded_passes_and_sends_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "PASS_LIMIT", 2)
    svc = await harness.service()
    ctx = svc.oms.ctx
    ctx.hold("session", "broker session not usable: test")  # nothing may be decided
    for n in range(5):
        await harness.submit(svc, f"ex-{n}", ttl_s="5")
    assert await pipeline.process_signals(ctx) == 0  # held, TTL not run out: all wait
    harness.clock.advance(6)
    passes = []
    for _ in range(3):
        ctx.wake.clear()
        passes.append((await pipeline.process_signals(ctx), ctx.wake.is_set()))
    # each expiry is a transaction: a pass takes at most PASS_LIMIT and hands the loop back
    assert passes == [(2, True), (2, True), (1, False)]
    statuses = {(await svc.get_signal(f"ex-{n}")).status for n in range(5)}  # type: ignore[union-attr]
    assert statuses == {"EXPIRED"}
    assert harness.places() == 0


async def test_a_burst_of_signals_runs_at_most_one_full_iteration_per_tick(
    harness: Harness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc = await harness.service()
    full_passes = 0
    run_once = svc.oms.run_once

    async def counted() -> None:
        nonlocal full_passes
        full_passes += 1
        await run_once()

    monkeypatch.setattr(svc.oms, "run_once", counted)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(svc.oms._loop())
    try:
        await asyncio.sleep(0.01)  # the first (full) iteration
        started, before = loop.time(), full_passes
        for n in range(20):
            await harness.submit(svc, f"burst-{n}")  # each one wakes the loop
            for _ in range(3):
                await asyncio.sleep(0)
        for _ in range(2000):  # at most ~10 s
            if not _received(svc):
                break
            await asyncio.sleep(0.005)
        elapsed = loop.time() - started
    finally:
        svc.oms._stopping = True
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert _received(svc) == 0 and harness.places() == 20
    # One full iteration per signal would be 20 here; one per tick is what elapsed allows.
    assert full_passes - before <= int(elapsed / engine._TICK_S) + 1
