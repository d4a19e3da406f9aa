"""The journal's hot statements, built once with bound parameters.

Why: building a SQLAlchemy statement (coercing every column and literal into bind
parameters, then computing the compiled-cache key) cost about three times as much as
running it: ~390 us against ~100 us for a primary-key SELECT on the sessions' 2-core
machines. An order's life runs some thirty of them (decision, send, reports), all on the
event loop. A statement object built once keeps its cache key, so only execution is paid.
Statements whose shape varies with the call (which filters, how many rows) are built on
demand and kept per shape (`order_selection`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update

from catalyst_ibkr.service.journal import schema as t

__all__ = [
    "FILLS_MARKER",
    "FILLS_OF_ORDER",
    "FILLS_OF_ORDERS",
    "INSERT_EVENT",
    "INSERT_ORDER",
    "INSERT_ORDER_EVENT",
    "ORDERS_BY_REFS",
    "ORDER_BY_BROKER_ID",
    "ORDER_BY_REF",
    "SELECT_BASELINES",
    "SELECT_OPERATOR_STATE",
    "SIGNAL_BY_ID",
    "SIGNAL_STATUS",
    "UPDATE_ORDER_AT_VERSION",
    "UPDATE_SIGNAL_FROM",
    "UPDATE_SIGNAL_UNLESS",
    "order_selection",
]

INSERT_EVENT = insert(t.service_events)
INSERT_ORDER_EVENT = insert(t.order_events)
INSERT_ORDER = insert(t.orders)

SIGNAL_BY_ID = select(t.signals).where(t.signals.c.id == bindparam("w_id"))
SIGNAL_STATUS = select(t.signals.c.status).where(t.signals.c.id == bindparam("w_id"))
#: SET from the execute parameters; WHERE id = :w_id AND status = :w_status (CAS)
UPDATE_SIGNAL_FROM = update(t.signals).where(
    t.signals.c.id == bindparam("w_id"), t.signals.c.status == bindparam("w_status"))
#: SET from the execute parameters; WHERE id = :w_id AND status != :w_status (no-op rewrite)
UPDATE_SIGNAL_UNLESS = update(t.signals).where(
    t.signals.c.id == bindparam("w_id"), t.signals.c.status != bindparam("w_status"))

ORDER_BY_REF = select(t.orders).where(t.orders.c.order_ref == bindparam("w_ref"))
ORDERS_BY_REFS = select(t.orders).where(
    t.orders.c.order_ref.in_(bindparam("w_refs", expanding=True)))
ORDER_BY_BROKER_ID = (select(t.orders).where(t.orders.c.broker_order_id == bindparam("w_id"))
                      .limit(1))
#: SET from the execute parameters; WHERE order_ref = :w_ref AND version = :w_version (CAS)
UPDATE_ORDER_AT_VERSION = update(t.orders).where(
    t.orders.c.order_ref == bindparam("w_ref"), t.orders.c.version == bindparam("w_version"))

_FILL_ORDER = (t.executions.c.time, t.executions.c.execution_id)
FILLS_OF_ORDER = (select(t.executions).where(t.executions.c.order_ref == bindparam("w_ref"))
                  .order_by(*_FILL_ORDER))
FILLS_OF_ORDERS = (select(t.executions)
                   .where(t.executions.c.order_ref.in_(bindparam("w_refs", expanding=True)))
                   .order_by(*_FILL_ORDER))
FILLS_MARKER = select(func.count(), func.max(t.executions.c.recorded_at))

SELECT_BASELINES = select(t.position_baselines)
SELECT_OPERATOR_STATE = select(t.operator_state)


def order_selection(
    columns: str, *, statuses: bool, signal_id: bool, created_since: bool, created_before: bool,
) -> Select[Any]:
    """The orders query of one shape, in the journal's order: `columns` "all" (whole rows)
    or "versions" (order_ref, version); each True flag adds its filter, bound as
    :w_statuses (a list), :w_signal, :w_since, :w_before."""
    return _order_selection(columns, statuses, signal_id, created_since, created_before)


@lru_cache(maxsize=64)
def _order_selection(
    columns: str, statuses: bool, signal_id: bool, created_since: bool, created_before: bool,
) -> Select[Any]:
    query: Select[Any] = (select(t.orders) if columns == "all"
                          else select(t.orders.c.order_ref, t.orders.c.version))
    query = query.order_by(
        t.orders.c.created_at, t.orders.c.parent_ref.is_not(None), t.orders.c.order_ref
    )
    if statuses:
        query = query.where(t.orders.c.status.in_(bindparam("w_statuses", expanding=True)))
    if signal_id:
        query = query.where(t.orders.c.signal_id == bindparam("w_signal"))
    if created_since:
        query = query.where(t.orders.c.created_at >= bindparam("w_since"))
    if created_before:
        query = query.where(t.orders.c.created_at < bindparam("w_before"))
    return query
