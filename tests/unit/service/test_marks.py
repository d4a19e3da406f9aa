"""Marks for held positions come from the broker, paced, and carry their time."""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.service.facade import ExecutionService
from oms_harness import Harness


async def _tick(
    harness: Harness, svc: ExecutionService, seconds: float, bid: str | None = None
) -> None:
    """Advance the clock, optionally move the market (a quote stamped now), run once. Unlike
    harness.step, the quote is not reset to the harness default."""
    harness.clock.advance(seconds)
    if bid is not None:
        harness.quote(bid=bid, ask=str(Decimal(bid) + Decimal("0.02")))
    await svc.oms.quiesce()
    await svc.oms.run_once()
    await svc.oms.quiesce()


async def test_a_held_position_is_marked_from_a_fresh_quote_once_per_interval(
    harness: Harness,
) -> None:
    svc = await harness.service()  # reconcile_interval_s: 30 (the default)
    await harness.submit(svc, "m-1", limit_price="100.02")
    await harness.step(svc)
    assert (await svc.get_signal("m-1")).status == "FILLED"  # type: ignore[union-attr]
    (before,) = await svc.positions()
    assert before.mark_price == Decimal("100.01") and before.mark_time is not None

    await _tick(harness, svc, 31, bid="110.00")  # the market moves; nothing is traded
    (moved,) = await svc.positions()
    assert moved.mark_price == Decimal("110.01")
    assert moved.mark_time == harness.clock.now()
    assert before.unrealized_pnl is not None and moved.unrealized_pnl is not None
    assert moved.unrealized_pnl - before.unrealized_pnl == Decimal(10) * Decimal(10)

    quote_calls = harness.broker.call_count("quotes")
    await _tick(harness, svc, 1, bid="120.00")
    moved_again_at = harness.clock.now()
    for _ in range(5):  # inside one interval: no new batch, the view says how old it is
        await _tick(harness, svc, 2)
        await svc.positions()
    assert harness.broker.call_count("quotes") == quote_calls
    (same,) = await svc.positions()
    assert same.mark_price == Decimal("110.01") and same.mark_time == moved.mark_time
    await _tick(harness, svc, 20)
    (later,) = await svc.positions()
    assert later.mark_price == Decimal("120.01") and later.mark_time == moved_again_at
    assert harness.broker.call_count("quotes") == quote_calls + 1


async def test_no_mark_batch_while_the_broker_is_out(harness: Harness) -> None:
    svc = await harness.service()
    await harness.submit(svc, "m-2", limit_price="100.02")
    await harness.step(svc)
    harness.broker.set_health(connected=False, detail="down")
    await harness.step(svc, 1)
    calls = harness.broker.call_count("quotes")
    await _tick(harness, svc, 31)
    await _tick(harness, svc, 31)
    assert harness.broker.call_count("quotes") == calls
    (position,) = await svc.positions()
    assert position.mark_price == Decimal("100.01")  # the last known mark, with its old time
    assert position.mark_time is not None and position.mark_time < harness.clock.now()
