"""Resolve orders whose send outcome is not known (PENDING_SUBMIT after a crash, IN_DOUBT).

The policy (docs/oms.md): look the order up by its cOID every `in_doubt_poll_s`. Found:
apply what IBKR reports (and its executions). Definitively absent (`order(cOID)` is None,
which the port promises only on positive evidence): if the signal's TTL has passed, it is
never sent late (EXPIRED if it may never have left, else REJECTED); otherwise send once more
with the SAME cOID, at most `max_sends` in all (a second copy is refused by IBKR as
"already registered", which we treat as "the first one landed"). Cannot look
(BrokerUnavailable): wait; past `in_doubt_budget_s` alert and hold new sends until resolved.
Nothing here ever makes a new cOID.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.orders import OrderStatus
from catalyst_ibkr.ports.broker import BrokerUnavailable, OrderReport, OutcomeUnknown
from catalyst_ibkr.service.journal.records import OrderRecord
from catalyst_ibkr.service.oms.apply import apply_execution, apply_report, mutate
from catalyst_ibkr.service.oms.context import OmsContext
from catalyst_ibkr.service.oms.send import children_of, send_intent

__all__ = ["resolve_in_flight"]

log = logging.getLogger("catalyst_ibkr.oms")

_IN_FLIGHT = ("PENDING_SUBMIT", "IN_DOUBT")


async def resolve_in_flight(ctx: OmsContext) -> int:
    """One pass over every in-flight parent order this process may act on."""
    acted = 0
    if "startup" in ctx.holds:
        return 0
    in_flight = ctx.journal.orders(statuses=_IN_FLIGHT)
    for record in in_flight:
        if record.external or record.parent_ref is not None:
            continue
        if record.order_ref in ctx.sending:
            continue
        now = ctx.now()
        if ctx.next_check.get(record.order_ref, datetime.min.replace(tzinfo=now.tzinfo)) > now:
            continue
        if not ctx.journal.take_lease(record, ctx.owner, now + ctx.budgets.lease, now):
            continue  # a live process (or our own send) is on it
        ctx.next_check[record.order_ref] = now + timedelta(seconds=ctx.budgets.in_doubt_poll_s)
        acted += 1
        await _resolve_one(ctx, record)
    # Nothing resolved: the list just read is still the in-doubt truth (no second read).
    in_doubt = [r for r in in_flight if r.order.status is OrderStatus.IN_DOUBT]
    _escalate(ctx, None if acted else in_doubt)
    return acted


async def _lookup(ctx: OmsContext, ref: str) -> OrderReport | str | None:
    try:
        return await ctx.broker.order(ClientOrderId(ref))
    except (BrokerUnavailable, OutcomeUnknown) as exc:
        return f"cannot look: {exc}"


async def _resolve_one(ctx: OmsContext, record: OrderRecord) -> None:
    found = await _lookup(ctx, record.order_ref)
    if isinstance(found, str):
        log.info("in-flight %s: %s", record.order_ref, found)
        return
    if found is not None:
        await _adopt_evidence(ctx, record, found)
        return
    # Positive evidence that IBKR never got it.
    signal = ctx.journal.get_signal(str(record.order.signal_id))
    now = ctx.now()
    expired = signal is None or signal.signal.is_expired(now)
    refs = [record.order_ref, *(c.order_ref for c in children_of(ctx, record))]
    if expired:
        async with ctx.writer:
            for ref in refs:
                mutate(ctx, ref, lambda r: _give_up(r, now, "TTL passed; never sent late"),
                       lease_owner=None, lease_until=None)
        log.warning("in-flight %s absent at IBKR and its TTL passed: closed unsent",
                    record.order_ref)
        return
    if any(key != "in_doubt" for key in ctx.holds):
        return  # absent, but nothing may be sent during an outage hold; the TTL keeps running
    if record.send_attempts >= ctx.budgets.max_sends:
        async with ctx.writer:
            for ref in refs:
                mutate(ctx, ref, lambda r: _give_up(r, now, "INFLIGHT_NOT_FOUND after "
                                                    f"{record.send_attempts} sends"),
                       lease_owner=None, lease_until=None)
        ctx.alert("inflight_not_found",
                  f"order {record.order_ref} is absent at IBKR after {record.send_attempts} "
                  "sends with the same cOID; rejected locally", order_ref=record.order_ref)
        return
    async with ctx.writer:
        fresh = ctx.journal.load_order(record.order_ref)
        if fresh is None or fresh.order.status.value not in _IN_FLIGHT:
            return
        if fresh.lease_owner != ctx.owner:
            return
        ctx.journal.save_order(fresh, now, send_attempts=fresh.send_attempts + 1,
                               lease_until=now + ctx.budgets.lease)
    log.warning("in-flight %s absent at IBKR: sending again with the same cOID (attempt %d)",
                record.order_ref, record.send_attempts + 1)
    await send_intent(ctx, record.order_ref)


def _give_up(record: OrderRecord, now: datetime, why: str) -> bool:
    order = record.order
    if order.status is OrderStatus.PENDING_SUBMIT:
        order.expire(now, f"absent at IBKR: {why}")
        return True
    if order.status is OrderStatus.IN_DOUBT:
        order.reject(f"absent at IBKR: {why}", now)
        return True
    return False


async def _adopt_evidence(ctx: OmsContext, record: OrderRecord, report: OrderReport) -> None:
    """IBKR has it: take its status, its executions, and its legs' status."""
    executions = []
    try:
        if report.filled_quantity > 0:
            since = record.created_at - timedelta(days=1)
            executions = [
                e for e in await ctx.broker.executions(since)
                if e.client_order_id == report.client_order_id
                or e.broker_order_id == report.broker_order_id
            ]
    except (BrokerUnavailable, OutcomeUnknown):
        executions = []
    child_reports = []
    for child in children_of(ctx, record):
        found = await _lookup(ctx, child.order_ref)
        if isinstance(found, OrderReport):
            child_reports.append(found)
    async with ctx.writer:
        apply_report(ctx, report)
        for execution in executions:
            apply_execution(ctx, execution)
        for child_report in child_reports:
            apply_report(ctx, child_report)
        mutate(ctx, record.order_ref, lambda _r: True, lease_owner=None, lease_until=None,
               in_doubt_since=None)
    ctx.next_check.pop(record.order_ref, None)
    log.info("in-flight %s found at IBKR: %s", record.order_ref, report.status.value)


def _escalate(ctx: OmsContext, in_doubt: list[OrderRecord] | None) -> None:
    """In-doubt past the budget with no evidence: alert once, and hold new sends.
    ``in_doubt``: the in-doubt orders if the caller has just read them, else None."""
    now = ctx.now()
    budget = timedelta(seconds=ctx.budgets.in_doubt_budget_s)
    if in_doubt is None:
        in_doubt = ctx.journal.orders(statuses=("IN_DOUBT",))
    overdue = [
        r.order_ref for r in in_doubt
        if r.in_doubt_since is not None and now - r.in_doubt_since > budget
    ]
    ctx.metrics.in_doubt.set(len(in_doubt))
    if overdue:
        if "in_doubt" not in ctx.holds:
            ctx.alert("in_doubt_budget", f"{len(overdue)} order(s) in doubt beyond "
                      f"{ctx.budgets.in_doubt_budget_s}s: {', '.join(overdue)}",
                      orders=overdue)
        ctx.hold("in_doubt", f"unresolved in-doubt orders: {', '.join(overdue)}")
    else:
        ctx.release("in_doubt")
