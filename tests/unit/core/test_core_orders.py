"""Order lifecycle: the real-world IBKR edges are legal, everything else raises and changes
nothing; fills are deduplicated by execution id and never exceed the quantity."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from core_builders import T0, fill, make_order, sent_order, working_order

from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.errors import FillMismatch, IllegalTransition, InvalidInput, OverfillError
from catalyst_ibkr.core.ids import BrokerOrderId, ConId
from catalyst_ibkr.core.order_fsm import (
    CLOSED_STATUSES,
    IN_FLIGHT_STATUSES,
    TRANSITIONS,
    WORKING_STATUSES,
    OrderStatus,
    OrderTrigger,
)
from catalyst_ibkr.core.orders import ModifyRequest, Order

S = OrderStatus


def state(order: Order) -> tuple[object, ...]:
    return (
        order.status,
        order.quantity,
        order.filled_quantity,
        order.avg_fill_price,
        order.broker_order_id,
        order.pending_modify,
        len(order.history),
        order.fills,
    )


# -- the happy path and the predicates ---------------------------------------------------------


def test_happy_path_to_filled() -> None:
    order = make_order()
    assert order.status is S.INITIALIZED and order.signal_status == "RECEIVED"
    assert not order.is_open
    order.mark_submitting(T0)
    assert order.is_in_flight and order.is_open and not order.is_working
    order.accept(T0, BrokerOrderId(1234))
    assert order.is_working and order.broker_order_id == "1234"
    assert order.apply_fill(fill("e1", 4, "189.00"))
    assert order.status is S.PARTIALLY_FILLED and order.leaves_quantity == 6
    assert order.apply_fill(fill("e2", 6, "190.00"))
    assert order.status is S.FILLED and order.is_closed and order.leaves_quantity == 0
    assert order.avg_fill_price == Decimal("189.6")
    assert [t.trigger for t in order.history] == [
        OrderTrigger.SUBMIT,
        OrderTrigger.ACCEPT,
        OrderTrigger.FILL_PARTIAL,
        OrderTrigger.FILL_FULL,
    ]


def test_status_sets_are_a_partition() -> None:
    every = set(OrderStatus)
    groups = [WORKING_STATUSES, IN_FLIGHT_STATUSES, CLOSED_STATUSES, {S.INITIALIZED}]
    assert set().union(*groups) == every
    assert sum(len(g) for g in groups) == len(every)


def test_denied_orders_never_come_back() -> None:
    order = make_order()
    order.deny("QTY_EXCEEDS_MAX", T0)
    assert order.status is S.DENIED and order.is_closed and order.reason == "QTY_EXCEEDS_MAX"
    assert not any(status is S.DENIED for status, _ in TRANSITIONS)
    for action in (lambda: order.accept(T0), lambda: order.apply_fill(fill("e1", 1))):
        with pytest.raises(IllegalTransition):
            action()


def test_broker_events_for_an_order_never_sent_are_illegal() -> None:
    order = make_order()
    order.expire(T0)
    before = state(order)
    with pytest.raises(IllegalTransition):
        order.accept(T0)  # EXPIRED + ACCEPT is legal only for an order that was sent
    assert state(order) == before


# -- real-world edges ---------------------------------------------------------------------------


def test_fill_before_ack_then_late_ack() -> None:
    order = sent_order()
    order.apply_fill(fill("e1", 10))
    assert order.status is S.FILLED
    order.accept(T0, BrokerOrderId(77))
    assert order.status is S.FILLED and order.broker_order_id == "77"


def test_partial_fill_before_ack() -> None:
    order = sent_order()
    order.apply_fill(fill("e1", 3))
    assert order.status is S.PARTIALLY_FILLED
    order.accept(T0)
    assert order.status is S.PARTIALLY_FILLED


def test_fill_while_cancelling_keeps_the_cancel_outstanding() -> None:
    order = working_order()
    order.request_cancel(T0)
    order.apply_fill(fill("e1", 4))
    assert order.status is S.PENDING_CANCEL and order.filled_quantity == 4
    assert order.signal_status == "PARTIALLY_FILLED"
    order.cancelled(T0)
    assert order.status is S.CANCELLED and order.leaves_quantity == 0


def test_fill_wins_the_race_against_the_cancel() -> None:
    order = working_order()
    order.request_cancel(T0)
    order.apply_fill(fill("e1", 10))
    assert order.status is S.FILLED
    order.cancel_rejected("Order already filled", T0)
    assert order.status is S.FILLED


def test_fill_after_cancel_is_recorded_and_the_order_stays_done() -> None:
    order = working_order()
    order.request_cancel(T0)
    order.cancelled(T0)
    assert order.apply_fill(fill("e1", 4))
    assert order.status is S.CANCELLED and order.filled_quantity == 4
    assert order.apply_fill(fill("e2", 6))
    assert order.status is S.FILLED


def test_cancel_rejected_returns_to_working_with_the_right_word() -> None:
    order = working_order()
    order.request_cancel(T0)
    order.cancel_rejected("too late", T0)
    assert order.status is S.SUBMITTED
    order.apply_fill(fill("e1", 2))
    order.request_cancel(T0)
    order.cancel_rejected("too late", T0)
    assert order.status is S.PARTIALLY_FILLED


def test_repeated_cancel_request_is_harmless() -> None:
    order = working_order()
    order.request_cancel(T0)
    order.request_cancel(T0)
    assert order.status is S.PENDING_CANCEL


@pytest.mark.parametrize(
    ("resolve", "expected"),
    [
        (lambda o: o.accept(T0, BrokerOrderId(5)), S.SUBMITTED),
        (lambda o: o.reject("INFLIGHT_TIMEOUT", T0), S.REJECTED),
        (lambda o: o.apply_fill(fill("e1", 10)), S.FILLED),
        (lambda o: o.apply_fill(fill("e1", 1)), S.PARTIALLY_FILLED),
        (lambda o: o.cancelled(T0), S.CANCELLED),
        (lambda o: o.mark_in_doubt(T0), S.IN_DOUBT),
    ],
)
def test_in_doubt_is_resolved_only_by_evidence(resolve: object, expected: OrderStatus) -> None:
    order = sent_order()
    order.mark_in_doubt(T0, "read timeout")
    assert order.status is S.IN_DOUBT and order.signal_status == "IN_DOUBT" and order.is_open
    resolve(order)  # type: ignore[operator]
    assert order.status is expected


def test_in_doubt_cannot_be_cancelled_or_resubmitted() -> None:
    order = sent_order()
    order.mark_in_doubt(T0)
    for action in (order.request_cancel, order.mark_submitting):
        with pytest.raises(IllegalTransition):
            action(T0)
    assert order.status is S.IN_DOUBT


def test_broker_evidence_overrides_an_inferred_rejection() -> None:
    order = sent_order()
    order.mark_in_doubt(T0)
    order.reject("INFLIGHT_TIMEOUT", T0)
    order.accept(T0, BrokerOrderId(9))  # the order was alive after all
    assert order.status is S.SUBMITTED and order.is_working


def test_ibkr_ending_a_rejected_order_as_cancelled_keeps_it_rejected() -> None:
    order = working_order()
    order.reject("Inactive", T0)
    order.cancelled(T0)
    assert order.status is S.REJECTED


def test_ack_after_a_restart_expiry_brings_the_order_back() -> None:
    order = sent_order()
    order.expire(T0, "absent at IBKR after restart, TTL passed")
    order.accept(T0)
    assert order.status is S.SUBMITTED


def test_resend_with_the_same_coid_stays_pending_submit() -> None:
    order = sent_order()
    order.mark_submitting(T0)
    assert order.status is S.PENDING_SUBMIT


# -- modify -------------------------------------------------------------------------------------


def test_modify_accept_applies_and_reject_drops_the_change() -> None:
    order = working_order()
    order.request_modify(ModifyRequest(limit_price=Decimal("191")), T0)
    assert order.status is S.PENDING_MODIFY and order.signal_status == "SUBMITTED"
    order.modify_accepted(T0)
    assert order.limit_price == Decimal(191) and order.status is S.SUBMITTED
    order.request_modify(ModifyRequest(quantity=Decimal(20)), T0)
    order.modify_rejected("no", T0)
    assert order.quantity == 10 and order.pending_modify is None


def test_a_fill_beyond_the_old_quantity_proves_the_modify() -> None:
    order = working_order()
    order.request_modify(ModifyRequest(quantity=Decimal(15)), T0)
    order.apply_fill(fill("e1", 12))
    assert order.quantity == 15 and order.status is S.PARTIALLY_FILLED
    with pytest.raises(OverfillError):
        order.apply_fill(fill("e2", 4))


def test_modify_down_to_the_fills_completes_the_order_consistently() -> None:
    order = working_order()
    order.request_modify(ModifyRequest(quantity=Decimal(8)), T0)
    order.apply_fill(fill("e1", 8))
    assert order.status is S.PENDING_MODIFY  # 8 of the old 10
    order.modify_accepted(T0)
    assert order.quantity == 8 and order.status is S.FILLED
    assert order.history[-1].after is S.FILLED


def test_a_modify_accept_below_the_fills_is_refused() -> None:
    order = working_order()
    order.request_modify(ModifyRequest(quantity=Decimal(8)), T0)
    order.apply_fill(fill("e1", 9))
    with pytest.raises(OverfillError):
        order.modify_accepted(T0)
    assert order.status is S.PENDING_MODIFY and order.quantity == 10


def test_modify_refuses_impossible_changes() -> None:
    order = working_order()
    order.apply_fill(fill("e1", 5))
    with pytest.raises(InvalidInput, match="filled quantity"):
        order.request_modify(ModifyRequest(quantity=Decimal(5)), T0)
    with pytest.raises(InvalidInput, match="stop_price"):
        order.request_modify(ModifyRequest(stop_price=Decimal(1)), T0)
    assert order.status is S.PARTIALLY_FILLED


def test_cancel_overrides_a_pending_modify() -> None:
    order = working_order()
    order.request_modify(ModifyRequest(limit_price=Decimal(189)), T0)
    order.request_cancel(T0)
    order.cancelled(T0)
    assert order.status is S.CANCELLED and order.pending_modify is None


# -- fills: dedupe, overfill, mismatch ----------------------------------------------------------


def test_replayed_execution_changes_nothing() -> None:
    order = working_order()
    assert order.apply_fill(fill("e1", 4))
    before = state(order)
    assert not order.apply_fill(fill("e1", 4))
    assert not order.apply_fill(fill("e1", 4, commission="1.00"))  # TWS adds commission later
    assert state(order) == before


def test_same_execution_id_with_different_content_is_refused() -> None:
    order = working_order()
    order.apply_fill(fill("e1", 4))
    before = state(order)
    with pytest.raises(FillMismatch, match="different content"):
        order.apply_fill(fill("e1", 5))
    assert state(order) == before


def test_overfill_is_refused_and_changes_nothing() -> None:
    order = working_order()
    order.apply_fill(fill("e1", 8))
    before = state(order)
    with pytest.raises(OverfillError, match="would make 11 filled of 10"):
        order.apply_fill(fill("e2", 3))
    assert state(order) == before


@pytest.mark.parametrize(
    "bad",
    [fill("e9", 1, side=Side.SELL), fill("e9", 1, conid=ConId(1))],
)
def test_fills_for_another_contract_or_side_are_refused(bad: object) -> None:
    order = working_order()
    with pytest.raises(FillMismatch):
        order.apply_fill(bad)  # type: ignore[arg-type]
    assert order.filled_quantity == 0


def test_a_different_broker_order_id_is_refused() -> None:
    order = sent_order()
    order.accept(T0, BrokerOrderId(1))
    with pytest.raises(FillMismatch):
        order.accept(T0, BrokerOrderId(2))
    assert order.broker_order_id == "1"


def test_illegal_transitions_raise_and_change_nothing() -> None:
    order = working_order()
    order.apply_fill(fill("e1", 10))
    before = state(order)
    for action in (order.request_cancel, order.mark_submitting, order.cancelled, order.expire):
        with pytest.raises(IllegalTransition, match="not allowed in state FILLED"):
            action(T0)
    assert state(order) == before


# -- status reports -----------------------------------------------------------------------------


def test_status_reports_follow_the_cp_sequence() -> None:
    order = sent_order()
    assert not order.apply_status_report(S.PENDING_SUBMIT, T0, "Inactive")
    assert order.status is S.PENDING_SUBMIT and order.broker_status == "Inactive"
    assert order.apply_status_report(S.SUBMITTED, T0, "PreSubmitted")
    assert not order.apply_status_report(S.SUBMITTED, T0, "Submitted")
    assert order.apply_status_report(S.PENDING_CANCEL, T0, "PendingCancel")
    assert order.apply_status_report(S.CANCELLED, T0, "Cancelled")
    assert order.status is S.CANCELLED


def test_repeated_reports_leave_no_trail_and_refused_ones_leave_no_trace() -> None:
    order = working_order()
    length = len(order.history)
    for _ in range(5):
        assert not order.apply_status_report(S.SUBMITTED, T0, "Submitted")
    assert len(order.history) == length and order.broker_status == "Submitted"
    order.apply_fill(fill("e1", 10))
    with pytest.raises(IllegalTransition):
        order.apply_status_report(S.CANCELLED, T0, "Cancelled")
    assert order.broker_status == "Submitted"


def test_a_pending_submit_report_resolves_an_in_doubt_order() -> None:
    order = sent_order()
    order.mark_in_doubt(T0)
    assert order.apply_status_report(S.PENDING_SUBMIT, T0, "PendingSubmit")
    assert order.status is S.SUBMITTED


def test_a_filled_report_without_executions_does_not_invent_fills() -> None:
    order = working_order()
    order.apply_status_report(S.FILLED, T0, "Filled")
    assert order.status is S.SUBMITTED and order.filled_quantity == 0


def test_inactive_after_fills_ends_as_cancelled_not_rejected() -> None:
    order = working_order()
    order.apply_fill(fill("e1", 3))
    order.apply_status_report(S.REJECTED, T0, "Inactive")
    assert order.status is S.CANCELLED and order.filled_quantity == 3


def test_a_contradictory_report_raises() -> None:
    order = working_order()
    order.apply_fill(fill("e1", 10))
    with pytest.raises(IllegalTransition):
        order.apply_status_report(S.CANCELLED, T0, "Cancelled")
    with pytest.raises(ValueError):
        order.apply_status_report(S.IN_DOUBT, T0)


# -- construction ------------------------------------------------------------------------------


def test_order_requires_the_prices_its_type_needs() -> None:
    order = make_order()
    with pytest.raises(InvalidInput, match="stop_price"):
        Order(**{**_kwargs(order), "order_type": OrderType.STP_LMT})
    with pytest.raises(InvalidInput, match="limit_price"):
        Order(**{**_kwargs(order), "order_type": OrderType.MKT})


def test_restore_state_rebuilds_a_persisted_order() -> None:
    original = working_order()
    original.apply_fill(fill("e1", 4))
    restored = make_order()
    restored.restore_state(
        status=S.PARTIALLY_FILLED,
        was_sent=True,
        fills=original.fills,
        broker_status="Submitted",
        history=original.history,
    )
    assert restored.filled_quantity == 4 and restored.avg_fill_price == Decimal("189.99")
    assert not restored.apply_fill(fill("e1", 4))  # dedupe survives a restart
    restored.apply_fill(fill("e2", 6))
    assert restored.status is S.FILLED


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"status": S.FILLED, "was_sent": True, "fills": [fill("e1", 4)]}, "does not fit"),
        ({"status": S.SUBMITTED, "was_sent": True, "fills": [fill("e1", 11)]}, "more than"),
        (
            {"status": S.SUBMITTED, "was_sent": True, "fills": [fill("e1", 1), fill("e1", 1)]},
            "twice",
        ),
        ({"status": S.SUBMITTED, "was_sent": False}, "was_sent"),
        ({"status": S.DENIED, "was_sent": True}, "was_sent"),
        (
            {
                "status": S.SUBMITTED,
                "was_sent": True,
                "pending_modify": ModifyRequest(quantity=Decimal(12)),
            },
            "pending modify",
        ),
        (
            {"status": S.SUBMITTED, "was_sent": True, "fills": [fill("e1", 1, side=Side.SELL)]},
            "another contract or side",
        ),
    ],
)
def test_restore_state_refuses_inconsistent_rows(kwargs: dict[str, Any], needle: str) -> None:
    order = make_order()
    with pytest.raises(InvalidInput, match=needle):
        order.restore_state(**kwargs)
    assert order.status is S.INITIALIZED and order.filled_quantity == 0


def test_restore_state_only_onto_a_fresh_order() -> None:
    order = sent_order()
    with pytest.raises(IllegalTransition):
        order.restore_state(status=S.SUBMITTED, was_sent=True)


def test_adopted_orders_accept_broker_events() -> None:
    order = make_order()
    order.adopt(T0, BrokerOrderId(42))
    assert order.status is S.SUBMITTED and order.broker_order_id == "42"
    order.apply_fill(fill("e1", 10))
    assert order.status is S.FILLED


def _kwargs(order: Order) -> dict[str, Any]:
    template = copy.copy(order)
    return {
        "client_order_id": template.client_order_id,
        "signal_id": template.signal_id,
        "conid": template.conid,
        "symbol": template.symbol,
        "side": template.side,
        "quantity": template.quantity,
        "order_type": template.order_type,
        "limit_price": template.limit_price,
        "created_at": template.created_at,
    }
