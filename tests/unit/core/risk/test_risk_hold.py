"""The broker-outage hold: starts held, clears only after reconnect AND a fresh reconcile."""

from __future__ import annotations

from risk_builders import context, intent, loose

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.risk import OutageHold, ReasonCode, RiskEngine


def test_starts_held_until_the_first_session_and_reconciliation() -> None:
    hold = OutageHold()
    assert hold.active and "starting" in (hold.reason or "")
    assert not hold.reconciled(hold.epoch)  # no session yet: nothing clears it
    epoch = hold.session_restored()
    assert hold.active
    assert hold.reconciled(epoch)
    assert not hold.active and hold.reason is None


def test_a_reconcile_that_began_before_the_drop_clears_nothing() -> None:
    hold = OutageHold()
    hold.reconciled(hold.session_restored())
    started = hold.epoch  # a reconcile starts...
    hold.session_lost("TWS 1100")  # ...the session drops...
    fresh = hold.session_restored()  # ...and comes back
    assert not hold.reconciled(started)
    assert hold.active
    assert hold.reconciled(fresh)


def test_restoring_twice_does_not_invalidate_a_running_reconcile() -> None:
    hold = OutageHold()
    epoch = hold.session_restored()
    assert hold.session_restored() == epoch
    assert hold.reconciled(epoch)


def test_the_hold_feeds_the_engine_and_never_changes_the_operator_state() -> None:
    hold = OutageHold()
    hold.reconciled(hold.session_restored())
    hold.session_lost("competing session")
    ctx = context(broker_hold_reason=hold.reason, trading_state=TradingState.REDUCING)
    decision = RiskEngine(loose()).evaluate(intent(), ctx)
    assert decision.reason_code is ReasonCode.BROKER_OUTAGE_HOLD
    assert "competing session" in decision.denial.message  # type: ignore[union-attr]
    assert decision.trip_to is None
