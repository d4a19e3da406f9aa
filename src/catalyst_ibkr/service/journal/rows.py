"""Row <-> domain conversion and the small writes every journal transaction shares.

Why apart from the Journal class: these are pure mappings (plus two INSERT helpers that run
inside a caller's transaction), used by both halves of the journal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import (
    AccountId,
    BrokerOrderId,
    ClientOrderId,
    ConId,
    ExecutionId,
    SignalId,
    StrategyId,
)
from catalyst_ibkr.core.orders import Order, OrderStatus
from catalyst_ibkr.ports.broker import ExecutionReport
from catalyst_ibkr.service.journal.codec import (
    dump_json,
    modify_from_json,
    modify_to_json,
    signal_from_json,
)
from catalyst_ibkr.service.journal.records import OrderRecord, SignalRecord
from catalyst_ibkr.service.journal.statements import (
    FILLS_OF_ORDER,
    FILLS_OF_ORDERS,
    INSERT_EVENT,
    INSERT_ORDER_EVENT,
)

__all__ = [
    "KEEP",
    "EventDraft",
    "Keep",
    "execution_values",
    "fill_from_row",
    "fills_by_order",
    "opt",
    "order_record",
    "order_values",
    "signal_record",
    "write_events",
    "write_history",
]


@dataclass(frozen=True, slots=True)
class EventDraft:
    """A service event to journal together with a change."""

    kind: str
    data: Mapping[str, object]


def write_events(conn: Connection, now: datetime, events: Sequence[EventDraft]) -> None:
    if events:
        conn.execute(INSERT_EVENT, [{"at": now, "kind": e.kind, "data": dump_json(e.data)}
                                    for e in events])


def write_history(conn: Connection, order_ref: str, order: Order, start: int) -> None:
    steps = order.history[start:]
    if steps:
        conn.execute(INSERT_ORDER_EVENT, [
            {"order_ref": order_ref, "at": step.at, "trigger": step.trigger.value,
             "before": step.before.value, "after": step.after.value, "detail": step.detail}
            for step in steps])


def fills_by_order(conn: Connection, order_refs: Sequence[str]) -> dict[str, list[Fill]]:
    """The fills of many orders in one query, each list in time order."""
    found: dict[str, list[Fill]] = {}
    refs = list(dict.fromkeys(order_refs))
    for start in range(0, len(refs), 500):  # stay under the drivers' bound-parameter limits
        chunk = refs[start:start + 500]
        for r in conn.execute(FILLS_OF_ORDERS, {"w_refs": chunk}).mappings():
            found.setdefault(r["order_ref"], []).append(fill_from_row(r))
    return found


def order_record(
    conn: Connection, row: RowMapping, fills: Sequence[Fill] | None = None
) -> OrderRecord:
    """`fills`: already loaded by the caller (`fills_by_order`); None reads them here."""
    order = Order(
        client_order_id=ClientOrderId(row["order_ref"]),
        signal_id=None if row["signal_id"] is None else SignalId(row["signal_id"]),
        conid=ConId(row["conid"]),
        symbol=row["symbol"],
        side=Side(row["side"]),
        quantity=row["quantity"],
        order_type=OrderType(row["order_type"]),
        created_at=row["created_at"],
        limit_price=row["limit_price"],
        stop_price=row["stop_price"],
        tif=TimeInForce(row["tif"]),
        outside_rth=bool(row["outside_rth"]),
        strategy=None if row["strategy"] is None else StrategyId(row["strategy"]),
        account=None if row["account"] is None else AccountId(row["account"]),
        parent_id=None if row["parent_ref"] is None else ClientOrderId(row["parent_ref"]),
    )
    fills = list(fills) if fills is not None else [
        fill_from_row(r)
        for r in conn.execute(FILLS_OF_ORDER, {"w_ref": row["order_ref"]}).mappings()
    ]
    order.restore_state(
        status=OrderStatus(row["status"]),
        was_sent=bool(row["was_sent"]),
        fills=fills,
        broker_order_id=None
        if row["broker_order_id"] is None
        else BrokerOrderId(row["broker_order_id"]),
        broker_status=row["broker_status"],
        reason=row["reason"],
        pending_modify=modify_from_json(row["pending_change"]),
    )
    return OrderRecord(
        order_ref=row["order_ref"],
        order=order,
        version=int(row["version"]),
        external=bool(row["external"]),
        send_attempts=int(row["send_attempts"]),
        lease_owner=row["lease_owner"],
        lease_until=row["lease_until"],
        in_doubt_since=row["in_doubt_since"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        parent_ref=row["parent_ref"],
    )


class Keep:
    """Sentinel type: leave this column as it is."""


KEEP = Keep


def opt(value: object | None) -> str | None:
    return None if value is None else str(value)


def order_values(order: Order, now: datetime) -> dict[str, Any]:
    return {
        "broker_order_id": opt(order.broker_order_id),
        "account": opt(order.account),
        "conid": int(order.conid),
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": order.quantity,
        "order_type": order.order_type.value,
        "tif": order.tif.value,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "outside_rth": order.outside_rth,
        "strategy": opt(order.strategy),
        "status": order.status.value,
        "broker_status": order.broker_status,
        "reason": order.reason,
        "was_sent": order.was_sent,
        "pending_change": modify_to_json(order.pending_modify),
        "updated_at": now,
    }


def execution_values(
    execution: ExecutionReport, order_ref: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "execution_id": str(execution.execution_id),
        "order_ref": order_ref,
        "client_order_id": opt(execution.client_order_id),
        "broker_order_id": str(execution.broker_order_id),
        "account": str(execution.account),
        "conid": int(execution.conid),
        "symbol": execution.symbol,
        "side": execution.side.value,
        "quantity": execution.quantity,
        "price": execution.price,
        "commission": execution.commission,
        "time": execution.time,
        "recorded_at": now,
    }


def fill_from_row(row: RowMapping) -> Fill:
    return Fill(
        execution_id=ExecutionId(row["execution_id"]),
        conid=ConId(row["conid"]),
        side=Side(row["side"]),
        quantity=row["quantity"],
        price=row["price"],
        time=row["time"],
        commission=row["commission"],
        client_order_id=None
        if row["client_order_id"] is None
        else ClientOrderId(row["client_order_id"]),
        broker_order_id=None
        if row["broker_order_id"] is None
        else BrokerOrderId(row["broker_order_id"]),
        account=None if row["account"] is None else AccountId(row["account"]),
    )


def signal_record(row: RowMapping) -> SignalRecord:
    return SignalRecord(
        signal=signal_from_json(row["body"], row["received_at"]),
        fingerprint=row["fingerprint"],
        status=row["status"],
        risk_decision=row["risk_decision"],
        reason_code=row["reason_code"],
        reason=row["reason"],
        updated_at=row["updated_at"],
    )
