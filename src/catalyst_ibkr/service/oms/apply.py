"""Apply broker evidence (order reports, executions) to the journaled orders.

Why here, in one place: the event stream, the in-doubt resolver and reconciliation all
learn the same kinds of facts; each must move an order through the one state machine, journal
the fill and the order together, adopt what we did not place, and mirror a parent order's
status onto its signal. Broker evidence always wins over our inference (order_fsm.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from catalyst_ibkr.core.errors import FillMismatch, IllegalTransition, InvalidInput, OverfillError
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.orders import Order
from catalyst_ibkr.ports.broker import ExecutionReport, OrderReport
from catalyst_ibkr.service.journal import StaleWrite
from catalyst_ibkr.service.journal.records import OrderRecord
from catalyst_ibkr.service.journal.rows import KEEP, Keep
from catalyst_ibkr.service.journal.store import EventDraft
from catalyst_ibkr.service.oms.context import OmsContext

__all__ = [
    "apply_execution",
    "apply_report",
    "find_for",
    "mutate",
    "order_event",
    "sync_signal",
]

log = logging.getLogger("catalyst_ibkr.oms")


def order_event(record: OrderRecord) -> EventDraft:
    order = record.order
    return EventDraft(
        "order",
        {
            "order_ref": record.order_ref,
            "client_order_id": None if record.external else record.order_ref,
            "broker_order_id": order.broker_order_id,
            "signal_id": order.signal_id,
            "status": order.status.value,
            "filled_quantity": order.filled_quantity,
            "quantity": order.quantity,
            "external": record.external,
        },
    )


def sync_signal(ctx: OmsContext, record: OrderRecord) -> None:
    """A signal's status is its parent order's once the order exists."""
    order = record.order
    if record.external or record.parent_ref is not None or order.signal_id is None:
        return
    before = ctx.journal.signal_status(str(order.signal_id))
    status = order.signal_status
    if before is not None and before != status:
        ctx.journal.set_signal_status(
            str(order.signal_id), status, ctx.now(),
            events=[EventDraft("signal", {"id": order.signal_id, "status": status})],
        )
        ctx.notifier.notify()


def mutate(
    ctx: OmsContext,
    order_ref: str,
    change: Callable[[OrderRecord], bool],
    *,
    lease_owner: str | type[Keep] | None = KEEP,
    lease_until: datetime | type[Keep] | None = KEEP,
    in_doubt_since: datetime | type[Keep] | None = KEEP,
    loaded: OrderRecord | None = None,
) -> OrderRecord | None:
    """Load, change, save with compare-and-swap; on a stale write reload and decide again.
    ``loaded``: the record as the caller just read it (no await since), used for the first
    try instead of a second read; a stale write still reloads."""
    for _ in range(5):
        record = loaded if loaded is not None else ctx.journal.load_order(order_ref)
        loaded = None
        if record is None:
            return None
        if not change(record):
            return record
        try:
            ctx.journal.save_order(
                record, ctx.now(), events=[order_event(record)], lease_owner=lease_owner,
                lease_until=lease_until, in_doubt_since=in_doubt_since,
            )
        except StaleWrite:
            continue
        ctx.notifier.notify()
        sync_signal(ctx, record)
        return record
    raise StaleWrite(order_ref)


def find_for(
    ctx: OmsContext, cid: ClientOrderId | None, broker_id: str | None
) -> OrderRecord | None:
    if cid is not None:
        found = ctx.journal.load_order(str(cid))
        if found is not None:
            return found
    if broker_id is not None:
        return ctx.journal.find_order(str(broker_id))
    return None


def apply_report(ctx: OmsContext, report: OrderReport) -> OrderRecord | None:
    """Move our order to what the broker reports, or adopt an order we did not place."""
    found = find_for(ctx, report.client_order_id, report.broker_order_id)
    if found is None:
        if report.client_order_id is None and _maybe_ours_in_flight(ctx, report):
            # No cOID on the report and one of ours of that shape has no broker id yet: it may
            # be ours before its ack. Adopting it now could count one order twice; the ack or
            # the next reconciliation decides.
            log.info("report for broker order %s deferred: may be an in-flight order of ours",
                     report.broker_order_id)
            return None
        return _adopt(ctx, report)

    def change(record: OrderRecord) -> bool:
        order = record.order
        before = (order.status, order.broker_order_id, order.broker_status)
        if order.broker_order_id is None:
            order.broker_order_id = report.broker_order_id
        try:
            order.apply_status_report(report.status, ctx.now(), raw=report.status.value)
        except IllegalTransition as exc:
            log.warning("report for %s not applied: %s", record.order_ref, exc)
        return (order.status, order.broker_order_id, order.broker_status) != before

    return mutate(ctx, found.order_ref, change, loaded=found)


def _maybe_ours_in_flight(ctx: OmsContext, report: OrderReport) -> bool:
    return any(
        not r.external and r.order.broker_order_id is None and r.order.conid == report.conid
        and r.order.side is report.side
        for r in ctx.journal.orders(statuses=("PENDING_SUBMIT", "IN_DOUBT"))
    )


def _adopt(ctx: OmsContext, report: OrderReport) -> OrderRecord | None:
    """An order at IBKR that the journal does not know: placed by hand, by another client, or
    ours from a lost journal. Adopted as external so it counts against limits and can be
    cancelled; never re-sent."""
    ref = (
        str(report.client_order_id)
        if report.client_order_id is not None
        else f"ext-{report.broker_order_id}"
    )
    try:
        order = Order(
            client_order_id=ClientOrderId(ref),
            signal_id=None,
            conid=report.conid,
            symbol=report.symbol,
            side=report.side,
            quantity=report.quantity,
            order_type=report.order_type,
            created_at=ctx.now(),
            limit_price=report.limit_price,
            stop_price=report.stop_price,
            tif=report.tif,
            account=report.account,
        )
        order.adopt(ctx.now(), report.broker_order_id)
        order.apply_status_report(report.status, ctx.now(), raw=report.status.value)
    except (InvalidInput, IllegalTransition) as exc:
        ctx.alert("adoption_failed",
                  f"could not adopt broker order {report.broker_order_id}: {exc}")
        return None
    preview = OrderRecord(ref, order, 1, True, 0, None, None, None, ctx.now(), ctx.now(), None)
    if ctx.journal.insert_external_order(order, ref, ctx.now(), [order_event(preview)]):
        ctx.notifier.notify()
        log.warning("adopted external order %s (%s %s %s)", ref, report.side, report.quantity,
                    report.symbol)
    return ctx.journal.load_order(ref)


def apply_execution(ctx: OmsContext, execution: ExecutionReport) -> bool:
    """Journal one execution and the order it fills, once. False for a replay."""
    if ctx.journal.has_execution(str(execution.execution_id)):
        return False
    fill_event = EventDraft(
        "fill",
        {
            "execution_id": execution.execution_id,
            "client_order_id": execution.client_order_id,
            "broker_order_id": execution.broker_order_id,
            "symbol": execution.symbol,
            "side": execution.side.value,
            "quantity": execution.quantity,
            "price": execution.price,
            "time": execution.time.isoformat(),
        },
    )
    for _ in range(5):
        record = find_for(ctx, execution.client_order_id, execution.broker_order_id)
        if record is None:
            recorded = ctx.journal.record_execution(execution, None, ctx.now(), [fill_event])
            break
        try:
            record.order.apply_fill(execution.to_fill())
        except (OverfillError, FillMismatch) as exc:
            ctx.alert("fill_mismatch", str(exc), execution_id=execution.execution_id)
            recorded = ctx.journal.record_execution(execution, None, ctx.now(), [fill_event])
            break
        except IllegalTransition as exc:
            log.warning("fill %s on %s: %s", execution.execution_id, record.order_ref, exc)
            recorded = ctx.journal.record_execution(execution, None, ctx.now(), [fill_event])
            break
        try:
            recorded = ctx.journal.record_fill(
                record, execution, ctx.now(), [fill_event, order_event(record)]
            )
        except StaleWrite:
            continue
        if recorded:
            sync_signal(ctx, record)
        break
    else:
        raise StaleWrite(str(execution.execution_id))
    if recorded:
        ctx.metrics.fills.inc()
        ctx.notifier.notify()
    return recorded
