"""Hypothesis drives one order through random event sequences (reliability (b) 28, 13, 19).

Properties checked after every step:
* a refused event (any DomainError) leaves the order exactly as it was;
* every applied event is a row of the transition table, and the status is that row's target
  (or its documented "settled" form: working-with-fills reads PARTIALLY_FILLED/FILLED);
* filled quantity = sum of distinct executions accepted, never above the order quantity, and
  FILLED exactly when it equals the quantity;
* replaying every execution already applied changes nothing;
* the order's public state restores (``restore_state``) to an identical order.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from core_builders import T0, fill, make_order
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from catalyst_ibkr.core.errors import DomainError, FillMismatch
from catalyst_ibkr.core.ids import BrokerOrderId
from catalyst_ibkr.core.order_fsm import TRANSITIONS, OrderStatus, OrderTrigger
from catalyst_ibkr.core.orders import ModifyRequest, Order

S = OrderStatus
REPORTABLE = [
    S.PENDING_SUBMIT,
    S.SUBMITTED,
    S.PARTIALLY_FILLED,
    S.FILLED,
    S.PENDING_CANCEL,
    S.CANCELLED,
    S.REJECTED,
    S.EXPIRED,
]
SERVICE_STATUSES = {
    "RECEIVED",
    "DENIED",
    "PENDING_SUBMIT",
    "SUBMITTED",
    "IN_DOUBT",
    "PARTIALLY_FILLED",
    "FILLED",
    "CANCELLED",
    "REJECTED",
    "EXPIRED",
}
SETTLED = {
    S.SUBMITTED: {S.SUBMITTED, S.PARTIALLY_FILLED, S.FILLED},
    S.PARTIALLY_FILLED: {S.PARTIALLY_FILLED, S.FILLED},
}


def snapshot(order: Order) -> tuple[object, ...]:
    return (
        order.status,
        order.quantity,
        order.limit_price,
        order.filled_quantity,
        order.avg_fill_price,
        order.broker_order_id,
        order.broker_status,
        order.pending_modify,
        order.reason,
        tuple(order.history),
        order.fills,
    )


class OrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.order = make_order(quantity=10)
        self.executions: dict[str, Decimal] = {}  # the independent model: accepted fills
        self.refused = 0

    def attempt(self, action: object) -> None:
        before = snapshot(self.order)
        seen = len(self.order.history)
        try:
            action()  # type: ignore[operator]
        except DomainError:
            assert snapshot(self.order) == before, "a refused event changed the order"
            self.refused += 1
            return
        for step in self.order.history[seen:]:
            target = TRANSITIONS.get((step.before, step.trigger))
            assert target is not None, f"applied a transition not in the table: {step}"
            assert step.after in SETTLED.get(target, {target}), step
        if self.order.history[seen:]:
            assert self.order.status is self.order.history[-1].after

    # -- our decisions -----------------------------------------------------------------------

    @rule()
    def submit(self) -> None:
        self.attempt(lambda: self.order.mark_submitting(T0))

    @rule()
    def deny(self) -> None:
        self.attempt(lambda: self.order.deny("RISK", T0))

    @rule()
    def outcome_unknown(self) -> None:
        self.attempt(lambda: self.order.mark_in_doubt(T0))

    @rule()
    def request_cancel(self) -> None:
        self.attempt(lambda: self.order.request_cancel(T0))

    @rule(quantity=st.one_of(st.none(), st.integers(1, 16)), price=st.sampled_from([None, "189"]))
    def request_modify(self, quantity: int | None, price: str | None) -> None:
        change = ModifyRequest(
            quantity=None if quantity is None else Decimal(quantity),
            limit_price=None if price is None else Decimal(price),
        )
        self.attempt(lambda: self.order.request_modify(change, T0))

    @rule()
    def expire(self) -> None:
        self.attempt(lambda: self.order.expire(T0))

    # -- broker events -----------------------------------------------------------------------

    @rule(broker_id=st.sampled_from([None, 1, 1, 2]))
    def accept(self, broker_id: int | None) -> None:
        bid = None if broker_id is None else BrokerOrderId(broker_id)
        self.attempt(lambda: self.order.accept(T0, bid))

    @rule()
    def reject(self) -> None:
        self.attempt(lambda: self.order.reject("no", T0))

    @rule()
    def cancelled(self) -> None:
        self.attempt(lambda: self.order.cancelled(T0))

    @rule()
    def cancel_rejected(self) -> None:
        self.attempt(lambda: self.order.cancel_rejected("too late", T0))

    @rule()
    def modify_accepted(self) -> None:
        self.attempt(lambda: self.order.modify_accepted(T0))

    @rule()
    def modify_rejected(self) -> None:
        self.attempt(lambda: self.order.modify_rejected("no", T0))

    @rule(reported=st.sampled_from(REPORTABLE))
    def status_report(self, reported: OrderStatus) -> None:
        self.attempt(lambda: self.order.apply_status_report(reported, T0, str(reported)))

    @rule(exec_no=st.integers(0, 7), quantity=st.integers(1, 6))
    def execution(self, exec_no: int, quantity: int) -> None:
        exec_id = f"e{exec_no}"
        known = self.executions.get(exec_id)
        if known is not None:
            quantity = int(known)  # a replay carries the same content
        before = snapshot(self.order)
        result: bool | None = None

        def go() -> None:
            nonlocal result
            result = self.order.apply_fill(fill(exec_id, quantity))

        self.attempt(go)
        if known is not None:
            assert result is False and snapshot(self.order) == before, "a replay changed things"
        elif result:
            self.executions[exec_id] = Decimal(quantity)

    @rule(exec_no=st.integers(0, 7))
    def conflicting_execution(self, exec_no: int) -> None:
        exec_id = f"e{exec_no}"
        known = self.executions.get(exec_id)
        if known is None:
            return
        before = snapshot(self.order)
        try:
            self.order.apply_fill(fill(exec_id, known + 1))
        except FillMismatch:
            pass
        else:
            raise AssertionError("an execution id reused with other content was accepted")
        assert snapshot(self.order) == before

    @precondition(lambda self: bool(self.executions))
    @rule()
    def replay_everything(self) -> None:
        before = snapshot(self.order)
        for fill_ in self.order.fills:
            assert self.order.apply_fill(fill_) is False
        assert snapshot(self.order) == before

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def fills_match_the_model_and_never_exceed_quantity(self) -> None:
        order = self.order
        assert order.filled_quantity == sum(self.executions.values(), Decimal(0))
        assert order.filled_quantity <= order.quantity
        assert (order.status is S.FILLED) == (order.filled_quantity == order.quantity)
        assert order.leaves_quantity >= 0
        assert {f.execution_id for f in order.fills} == set(self.executions)

    @invariant()
    def predicates_agree_with_the_status(self) -> None:
        order = self.order
        assert order.signal_status in SERVICE_STATUSES  # interfaces.md's status values
        assert not (order.is_working and order.is_closed)
        assert order.is_open == (order.is_working or order.is_in_flight)
        if order.status is S.DENIED:
            assert order.filled_quantity == 0 and order.broker_order_id is None

    @invariant()
    def the_public_state_restores_to_the_same_order(self) -> None:
        order = self.order
        clone = dataclasses.replace(order)  # same identity fields, fresh lifecycle
        clone.restore_state(
            status=order.status,
            was_sent=order.was_sent,
            fills=order.fills,
            broker_order_id=order.broker_order_id,
            broker_status=order.broker_status,
            reason=order.reason,
            pending_modify=order.pending_modify,
            history=order.history,
        )
        assert snapshot(clone) == snapshot(order)

    @invariant()
    def never_sent_means_no_broker_activity(self) -> None:
        sent = any(t.trigger is OrderTrigger.SUBMIT for t in self.order.history)
        assert sent == self.order.was_sent
        if not sent:
            assert self.order.filled_quantity == 0
            assert self.order.status in (S.INITIALIZED, S.DENIED, S.EXPIRED)


OrderMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestOrderMachine = OrderMachine.TestCase
