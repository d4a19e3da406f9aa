"""Cancel, modify, cancel-all and kill; ambiguous outcomes stay pending until evidence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalyst_ibkr.core.ids import ClientOrderId, SignalId
from catalyst_ibkr.service.errors import InvalidRequest, NotFound
from oms_harness import Harness, settings_with


def _coid(sid: str, leg: str = "") -> str:
    return str(ClientOrderId.for_signal(SignalId(sid), leg))


async def _working(harness: Harness, sid: str, **kw: str):  # type: ignore[no-untyped-def]
    svc = harness.services[-1] if harness.services else await harness.service()
    await harness.submit(svc, sid, **kw)
    await harness.step(svc)
    return svc


async def test_cancel_is_accepted_then_confirmed_by_the_broker(harness: Harness) -> None:
    svc = await _working(harness, "k-1")
    result = await svc.cancel_order(_coid("k-1"))
    assert result.status == "ACCEPTED"
    await harness.step(svc)
    assert (await svc.get_signal("k-1")).status == "CANCELLED"  # type: ignore[union-attr]


async def test_ambiguous_cancel_stays_pending_until_evidence(harness: Harness) -> None:
    svc = await _working(harness, "k-2")
    harness.broker.unknown_next("cancel", landed=False)
    result = await svc.cancel_order(_coid("k-2"))
    assert result.status == "PENDING"
    (order,) = await svc.list_orders(open_only=True)
    assert order.status == "PENDING_CANCEL"  # not "cancel rejected", not "cancelled"
    await harness.step(svc, 31)  # reconciliation: still working at IBKR
    (order,) = await svc.list_orders(open_only=True)
    assert order.status == "PENDING_CANCEL"
    again = await svc.cancel_order(_coid("k-2"))  # repeating a cancel is safe
    assert again.status == "ACCEPTED"
    await harness.step(svc)
    assert await svc.list_orders(open_only=True) == []


async def test_cancel_and_modify_refuse_bad_requests_clearly(harness: Harness) -> None:
    svc = await _working(harness, "k-3")
    with pytest.raises(NotFound):
        await svc.cancel_order("no-such-order")
    with pytest.raises(InvalidRequest, match="at least one"):
        await svc.modify_order(_coid("k-3"))
    with pytest.raises(InvalidRequest, match="positive"):
        await svc.modify_order(_coid("k-3"), quantity=Decimal("-1"))
    with pytest.raises(InvalidRequest, match="stop_price"):
        await svc.modify_order(_coid("k-3"), stop_price=Decimal("90"))
    await svc.cancel_order(_coid("k-3"))
    await harness.step(svc)
    with pytest.raises(InvalidRequest, match="already CANCELLED"):
        await svc.cancel_order(_coid("k-3"))


async def test_modify_accepted_changes_the_order(harness: Harness) -> None:
    svc = await _working(harness, "m-1")
    result = await svc.modify_order(_coid("m-1"), quantity=Decimal(20),
                                    limit_price=Decimal("99.50"))
    assert result.status == "ACCEPTED", result
    (order,) = await svc.list_orders(open_only=True)
    assert order.quantity == Decimal(20) and order.limit_price == Decimal("99.50")
    assert order.status == "SUBMITTED"


async def test_modify_is_risk_checked_with_zero_broker_calls_on_deny(harness: Harness) -> None:
    svc = await _working(harness, "m-2")
    result = await svc.modify_order(_coid("m-2"), quantity=Decimal(5000))
    assert result.status == "DENIED" and result.reason_code == "QUANTITY_EXCEEDS_MAX"
    assert harness.broker.call_count("modify") == 0


async def test_ambiguous_modify_stays_pending(harness: Harness) -> None:
    svc = await _working(harness, "m-3")
    harness.broker.unknown_next("modify", landed=True)
    result = await svc.modify_order(_coid("m-3"), limit_price=Decimal("99.00"))
    assert result.status == "PENDING"
    (order,) = await svc.list_orders(open_only=True)
    assert order.status == "PENDING_MODIFY"


async def test_kill_halts_cancels_everything_and_verifies(harness: Harness) -> None:
    svc = await _working(harness, "x-1")
    await _working(harness, "x-2", side="SELL", limit_price="101.00")
    from catalyst_ibkr.core.enums import Side

    harness.broker.add_external_order("AAPL", Side.BUY, Decimal(1), Decimal("95.00"))
    report = await svc.kill(actor="ops@desk")
    assert report.trading_state == "HALTED" and report.verified and report.remaining == ()
    assert await harness.broker.open_orders() == []
    assert (await svc.risk()).trading_state == "HALTED"
    await harness.submit(svc, "x-3")
    await harness.step(svc)
    assert (await svc.get_signal("x-3")).reason_code == "TRADING_HALTED"  # type: ignore[union-attr]
    actions = [a["action"] for a in svc.oms.ctx.journal.audit_entries()]
    assert "kill" in actions and "cancel_all" in actions


async def test_kill_with_a_lost_cancel_all_cancels_stragglers_and_still_verifies(
    harness: Harness,
) -> None:
    harness.settings = settings_with("[oms]\nin_doubt_poll_s = 0.01\n")
    svc = await _working(harness, "y-1")
    harness.broker.unknown_next("cancel_all", landed=False)
    report = await svc.kill(actor="ops")
    assert report.cancel_status == "PENDING"
    assert report.verified and await harness.broker.open_orders() == []


async def test_kill_that_cannot_verify_says_so_and_resumes_after_restart(
    harness: Harness,
) -> None:
    harness.settings = settings_with("[oms]\nin_doubt_poll_s = 0.01\n")
    svc = await _working(harness, "z-1")
    for _ in range(10):
        harness.broker.unknown_next("cancel_all", landed=False)
        harness.broker.unknown_next("cancel", landed=False)
    report = await svc.kill(actor="ops")
    assert not report.verified and len(report.remaining) == 1
    assert svc.oms.ctx.journal.kill_pending()
    await harness.crash(svc)  # crash mid-kill: HALTED and the pending kill persist
    harness.broker._faults.clear()
    again = await harness.service()
    assert (await again.risk()).trading_state == "HALTED"
    assert await harness.broker.open_orders() == []
    assert not again.oms.ctx.journal.kill_pending()


async def test_cancel_all_accepted(harness: Harness) -> None:
    svc = await _working(harness, "ca-1")
    await _working(harness, "ca-2")
    result = await svc.cancel_all(actor="ops")
    assert result.status == "ACCEPTED" and len(result.orders) == 2
    await harness.step(svc)
    assert await svc.list_orders(open_only=True) == []


async def test_kill_during_an_outage_is_executed_and_verified_after_the_heal(
    harness: Harness,
) -> None:
    harness.settings = settings_with("[oms]\nin_doubt_poll_s = 0.01\n")
    svc = await _working(harness, "pk-1")
    harness.broker.set_health(connected=False, detail="partition")
    report = await svc.kill(actor="ops")
    assert not report.verified and report.cancel_status == "REJECTED"
    (still,) = harness.broker.orders_for(ClientOrderId.for_signal(SignalId("pk-1")))
    assert still.status.is_working  # nothing could be cancelled during the partition
    harness.broker.set_health()
    await harness.step(svc, 1)
    await harness.step(svc, 1)
    assert await harness.broker.open_orders() == []
    assert not svc.oms.ctx.journal.kill_pending()
    assert (await svc.risk()).trading_state == "HALTED"
