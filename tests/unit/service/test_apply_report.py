"""`apply_report` uses the record it just found for the first try, and still reloads and
decides again when another writer saved the order in between (compare-and-swap)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from catalyst_ibkr.core.orders import OrderStatus
from catalyst_ibkr.service.oms.apply import apply_report
from oms_harness import Harness


async def test_a_report_applies_after_a_concurrent_save_by_reloading(
    harness: Harness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc = await harness.service()
    await harness.submit(svc, "ar-1")
    await harness.step(svc)
    ctx = svc.oms.ctx
    cid = ClientOrderId.for_signal(SignalId("ar-1"))
    before = ctx.journal.load_order(str(cid))
    assert before is not None and before.order.status is OrderStatus.SUBMITTED
    report = await ctx.broker.order(cid)
    assert report is not None
    cancelled = replace(report, status=OrderStatus.CANCELLED,
                        updated_at=harness.clock.now())

    real_save = ctx.journal.save_order
    calls: list[int] = []

    def save_with_a_rival(record: Any, now: Any, **kw: Any) -> Any:
        calls.append(record.version)
        if len(calls) == 1:  # another writer saves the same order first
            rival = ctx.journal.load_order(record.order_ref)
            assert rival is not None
            real_save(rival, now)
        return real_save(record, now, **kw)

    monkeypatch.setattr(ctx.journal, "save_order", save_with_a_rival)
    after = apply_report(ctx, cancelled)
    assert after is not None and after.order.status is OrderStatus.CANCELLED
    stored = ctx.journal.load_order(str(cid))
    assert stored is not None and stored.order.status is OrderStatus.CANCELLED
    # the first try wrote with the version it found (stale), the second with a fresh one
    assert len(calls) == 2 and calls[1] == calls[0] + 1
    assert (await svc.get_signal("ar-1")).status == "CANCELLED"  # type: ignore[union-attr]
