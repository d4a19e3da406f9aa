"""The one path from the risk engine to the broker: nothing is sent unless risk allowed it.

Why a function of its own: "a denied order makes zero broker calls" is a promise worth
proving in a unit test, and it is easiest to prove about one small function that every
caller (the OMS, the CLI's order commands) goes through. It performs no I/O of its own
beyond the single broker call, catches nothing: OutcomeUnknown and BrokerUnavailable reach
the caller, which journals them (an unknown outcome is reconciled, never retried here).
"""

from __future__ import annotations

from dataclasses import dataclass

from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.risk import (
    CancelIntent,
    Decision,
    Denial,
    IntentAction,
    OrderIntent,
    RiskContext,
    RiskEngine,
)
from catalyst_ibkr.ports.broker import (
    Accepted,
    Broker,
    CancelOrder,
    ModifyOrder,
    PlaceOrder,
    Rejected,
)

__all__ = [
    "Denied",
    "GateOutcome",
    "cancel_checked",
    "intent_for_place",
    "modify_checked",
    "place_checked",
]


@dataclass(frozen=True, slots=True)
class Denied:
    """Refused by our risk engine; the broker was not called."""

    client_order_id: ClientOrderId | None
    decision: Decision

    def __post_init__(self) -> None:
        if self.decision.denial is None:
            raise ValueError("Denied needs a decision that denies")

    @property
    def denial(self) -> Denial:
        denial = self.decision.denial
        if denial is None:  # unreachable: checked at construction
            raise ValueError("Denied needs a decision that denies")
        return denial


GateOutcome = Accepted | Rejected | Denied


def intent_for_place(request: PlaceOrder) -> OrderIntent:
    """The risk view of a new order (the broker request is the single source of truth)."""
    return OrderIntent(
        client_order_id=request.client_order_id,
        symbol=request.instrument.symbol,
        side=request.side,
        quantity=request.quantity,
        order_type=request.order_type,
        tif=request.tif,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        conid=request.instrument.conid,
        strategy=request.strategy,
        outside_rth=request.outside_rth,
        action=IntentAction.NEW,
    )


async def place_checked(
    broker: Broker, engine: RiskEngine, request: PlaceOrder, context: RiskContext
) -> GateOutcome:
    decision = engine.evaluate(intent_for_place(request), context)
    if not decision.allowed:
        return Denied(request.client_order_id, decision)
    return await broker.place(request)


async def modify_checked(
    broker: Broker,
    engine: RiskEngine,
    request: ModifyOrder,
    resulting_order: OrderIntent,
    context: RiskContext,
) -> GateOutcome:
    """`resulting_order` is the working order as it would be after the modify."""
    if (
        resulting_order.action is not IntentAction.MODIFY
        or resulting_order.client_order_id != request.client_order_id
    ):
        raise ValueError("resulting_order must be the MODIFY intent of the same cOID")
    decision = engine.evaluate(resulting_order, context)
    if not decision.allowed:
        return Denied(request.client_order_id, decision)
    return await broker.modify(request)


async def cancel_checked(
    broker: Broker, engine: RiskEngine, request: CancelOrder, context: RiskContext
) -> GateOutcome:
    decision = engine.evaluate(CancelIntent(request.client_order_id), context)
    if not decision.allowed:
        return Denied(request.client_order_id, decision)
    return await broker.cancel(request)
