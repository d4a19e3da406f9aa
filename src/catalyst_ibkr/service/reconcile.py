"""Reconciliation: make the journal agree with what IBKR reports, and say when it cannot.

One run: health; then the broker's open orders, today's executions and positions. Unknown
executions are journaled (fills first, so positions are right); every open order is applied
to ours or adopted as external; our orders the journal thinks are live but the broker does
not list are looked up by cOID (status only from positive evidence, never from absence in a
list). Finally positions: expected = opening baseline + journaled fills; a difference that
survives a second look (a fill racing the snapshot) raises the "drift" hold and an alert.
The run is journaled. The startup barrier is the first successful run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from catalyst_ibkr.core.enums import TimeInForce
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.ports.broker import (
    BrokerUnavailable,
    ExecutionReport,
    OrderReport,
    OutcomeUnknown,
    PositionReport,
)
from catalyst_ibkr.service.journal.records import OrderRecord
from catalyst_ibkr.service.journal.store import EventDraft
from catalyst_ibkr.service.oms.apply import apply_execution, apply_report, mutate
from catalyst_ibkr.service.oms.context import OmsContext
from catalyst_ibkr.service.positions import Drift

__all__ = ["reconcile"]

log = logging.getLogger("catalyst_ibkr.oms")

_LIVE = ("SUBMITTED", "PARTIALLY_FILLED", "PENDING_CANCEL", "PENDING_MODIFY")
#: How far back "today's executions" reach: IBKR keeps about a day (cOIDs are unique 24 h).
EXECUTIONS_LOOKBACK = timedelta(days=1)


async def _snapshot(
    ctx: OmsContext,
) -> tuple[Sequence[OrderReport], Sequence[ExecutionReport], Sequence[PositionReport]] | str:
    try:
        health = await ctx.broker.health()
        if not health.ok:
            ctx.hold("session", f"broker session not usable: {health.detail or 'down'}")
            return "session not usable"
        open_orders = await ctx.broker.open_orders()
        executions = await ctx.broker.executions(ctx.now() - EXECUTIONS_LOOKBACK)
        positions = await ctx.broker.positions()
    except (BrokerUnavailable, OutcomeUnknown) as exc:
        return f"broker unavailable: {exc}"
    return open_orders, executions, positions


async def reconcile(ctx: OmsContext, reason: str) -> str:
    """One reconciliation run; returns its outcome: ok, drift or unavailable."""
    started = ctx.now()
    snap = await _snapshot(ctx)
    if isinstance(snap, str):
        ctx.journal.record_reconciliation(started, ctx.now(), reason, "unavailable",
                                          {"detail": snap})
        ctx.metrics.reconciliations.labels("unavailable").inc()
        return "unavailable"
    open_orders, executions, positions = snap
    if reason == "startup":
        _halt_if_journal_is_new(ctx, open_orders, positions)
    async with ctx.writer:
        for report in open_orders:
            apply_report(ctx, report)
        for execution in executions:
            apply_execution(ctx, execution)
    listed = {str(r.client_order_id) for r in open_orders if r.client_order_id is not None}
    listed_ids = {str(r.broker_order_id) for r in open_orders}
    await _settle_unlisted(ctx, listed, listed_ids)
    drift = await _check_positions(ctx, positions)
    outcome = "drift" if drift else "ok"
    detail = {
        "open_orders": len(open_orders),
        "executions": len(executions),
        "positions": len(positions),
        "drift": [
            {"conid": d.conid, "symbol": d.symbol, "expected": d.expected, "reported": d.reported}
            for d in drift
        ],
    }
    ctx.journal.record_reconciliation(
        started, ctx.now(), reason, outcome, detail,
        [EventDraft("reconciliation", {"reason": reason, "outcome": outcome, **detail})],
    )
    ctx.notifier.notify()
    ctx.metrics.reconciliations.labels(outcome).inc()
    ctx.last_reconciliation_at = ctx.now()
    return outcome


def _halt_if_journal_is_new(
    ctx: OmsContext, open_orders: Sequence[OrderReport], positions: Sequence[PositionReport]
) -> None:
    """An empty journal facing an account that holds positions or working orders means the
    journal was lost (or this is a first start on a used account). Everything is imported
    as external, and trading stays HALTED until a person looks (reliability (b)15)."""
    journal = ctx.journal
    fresh = not journal.baselines() and not journal.orders() and not journal.fills()
    if not fresh or not (open_orders or positions):
        return
    from catalyst_ibkr.core.enums import TradingState

    journal.set_trading_state(
        TradingState.HALTED, "startup:new-journal", ctx.now(),
        "empty journal but the account has positions or working orders",
        events=[EventDraft("risk", {"trading_state": "HALTED", "actor": "startup:new-journal"})],
    )
    ctx.alert("new_journal_used_account",
              f"the journal is empty but IBKR reports {len(positions)} position(s) and "
              f"{len(open_orders)} working order(s): imported as external, trading HALTED "
              "until an operator sets ACTIVE")


async def _settle_unlisted(ctx: OmsContext, listed: set[str], listed_ids: set[str]) -> None:
    """Orders we think are live that the open-orders list lacks: ask for each by cOID."""
    for record in ctx.journal.orders(statuses=_LIVE):
        if record.order_ref in listed or (
            record.order.broker_order_id is not None
            and str(record.order.broker_order_id) in listed_ids
        ):
            continue
        if record.external:
            # No cOID to ask by. Absent from the complete list of working orders: it ended;
            # its executions (if any) were journaled above.
            now = ctx.now()

            def ended(rec: OrderRecord, now: datetime = now) -> bool:
                if rec.order.status.value not in _LIVE:
                    return False
                rec.order.cancelled(now, "absent from the broker's working orders")
                return True

            async with ctx.writer:
                mutate(ctx, record.order_ref, ended)
            continue
        try:
            report = await ctx.broker.order(ClientOrderId(record.order_ref))
        except (BrokerUnavailable, OutcomeUnknown):
            continue
        if report is None:
            # A live order the broker does not know. Only a DAY order older than a day is
            # provably over (IBKR forgets yesterday's orders); anything else waits.
            now = ctx.now()
            stale = now - record.created_at > EXECUTIONS_LOOKBACK
            if record.order.tif is TimeInForce.DAY and stale:

                def day_over(rec: OrderRecord, now: datetime = now) -> bool:
                    if rec.order.status.value not in _LIVE:
                        return False
                    rec.order.expire(now, "DAY order from a previous session; IBKR no longer "
                                          "reports it")
                    return True

                async with ctx.writer:
                    mutate(ctx, record.order_ref, day_over)
            continue
        async with ctx.writer:
            apply_report(ctx, report)


async def _check_positions(ctx: OmsContext, positions: Sequence[PositionReport]) -> list[Drift]:
    manager = ctx.positions
    manager.ensure_baselines(positions, ctx.now())
    ctx.broker_positions = {int(p.conid): p.quantity for p in positions}
    drift = manager.drift(positions)
    if drift:
        # A fill may have landed between our executions and positions reads: look again.
        try:
            executions = await ctx.broker.executions(ctx.now() - EXECUTIONS_LOOKBACK)
            positions = await ctx.broker.positions()
        except (BrokerUnavailable, OutcomeUnknown):
            return drift
        async with ctx.writer:
            for execution in executions:
                apply_execution(ctx, execution)
        drift = manager.drift(positions)
        ctx.broker_positions = {int(p.conid): p.quantity for p in positions}
    if drift:
        text = ", ".join(f"{d.symbol} ours {d.expected} vs IBKR {d.reported}" for d in drift)
        if "drift" not in ctx.holds:
            ctx.alert("position_drift", f"unexplained position difference: {text}",
                      drift=[{"conid": d.conid, "symbol": d.symbol} for d in drift])
        ctx.hold("drift", f"positions differ from IBKR: {text}")
    else:
        ctx.release("drift")
    return drift
