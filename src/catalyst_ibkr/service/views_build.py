"""Build the frozen views from journal records (no I/O beyond the journal)."""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.service.journal import Journal
from catalyst_ibkr.service.journal.records import OrderRecord, SignalRecord
from catalyst_ibkr.service.views import FillView, OrderView, QuestionView, SignalView

__all__ = ["fill_view", "order_view", "signal_view"]


def order_view(record: OrderRecord) -> OrderView:
    order = record.order
    return OrderView(
        order_ref=record.order_ref,
        client_order_id=None if record.external and record.order_ref.startswith("ext-")
        else record.order_ref,
        broker_order_id=None if order.broker_order_id is None else str(order.broker_order_id),
        signal_id=None if order.signal_id is None else str(order.signal_id),
        parent_id=record.parent_ref,
        symbol=order.symbol,
        conid=int(order.conid),
        side=order.side.value,
        quantity=order.quantity,
        order_type=order.order_type.value,
        tif=order.tif.value,
        status=order.status.value,
        filled_quantity=order.filled_quantity,
        created_at=record.created_at,
        updated_at=record.updated_at,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        avg_fill_price=order.avg_fill_price,
        external=record.external,
        reason=order.reason,
        broker_status=order.broker_status,
    )


def fill_view(fill: Fill, symbol: str) -> FillView:
    return FillView(
        execution_id=str(fill.execution_id),
        client_order_id=None if fill.client_order_id is None else str(fill.client_order_id),
        broker_order_id=None if fill.broker_order_id is None else str(fill.broker_order_id),
        symbol=symbol,
        conid=int(fill.conid),
        side=fill.side.value,
        quantity=fill.quantity,
        price=fill.price,
        time=fill.time,
        commission=fill.commission,
    )


def signal_view(journal: Journal, record: SignalRecord, *, fresh: bool = False) -> SignalView:
    """`fresh`: the record was just inserted by this caller, so it has no orders, fills or
    questions yet and the journal need not be read again (the intake hot path)."""
    signal = record.signal
    orders = [] if fresh else journal.orders(signal_id=str(signal.id))
    parent = next((o for o in orders if o.parent_ref is None), None)
    status = record.status if parent is None else parent.order.signal_status
    fills: list[FillView] = []
    for o in orders:
        fills.extend(fill_view(f, s) for _r, s, f in journal.fills(o.order_ref))
    questions = tuple(
        QuestionView(q["order_ref"], q["message_id"], q["text"], q["answer"], q["asked_at"])
        for q in (journal.questions([o.order_ref for o in orders]) if orders else ())
    )
    reason = record.reason
    if parent is not None and parent.order.reason and status in ("REJECTED", "EXPIRED"):
        reason = parent.order.reason
    return SignalView(
        id=str(signal.id),
        status=status,
        received_at=signal.received_at,
        expires_at=signal.expires_at,
        symbol=signal.symbol,
        side=signal.side.value,
        quantity=signal.quantity,
        order_type=signal.order_type.value,
        client_order_id=str(signal.client_order_id),
        limit_price=signal.limit_price,
        stop_price=signal.stop_price,
        strategy=None if signal.strategy is None else str(signal.strategy),
        risk_decision=record.risk_decision,
        reason_code=record.reason_code,
        reason=reason,
        broker_order_id=None
        if parent is None or parent.order.broker_order_id is None
        else str(parent.order.broker_order_id),
        filled_quantity=Decimal(0) if parent is None else parent.order.filled_quantity,
        avg_fill_price=None if parent is None else parent.order.avg_fill_price,
        fills=tuple(fills),
        questions=questions,
        orders=tuple(order_view(o) for o in orders),
    )



