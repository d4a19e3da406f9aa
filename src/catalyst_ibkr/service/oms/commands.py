"""Operator commands on working orders: cancel, modify, cancel-all, kill.

Why ambiguous outcomes stay pending: a cancel or modify that timed out may or may not have
taken effect. Emitting "cancel rejected" or "modify accepted" on a guess would lie to risk
and to the operator, so the order stays PENDING_CANCEL / PENDING_MODIFY until a report or
reconciliation shows what happened (reliability (b)10). Cancels pass risk in every operator
state, HALTED included; only the broker-outage hold stops them (nothing can be sent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.errors import IllegalTransition, InvalidInput
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.orders import ModifyRequest
from catalyst_ibkr.core.risk import CancelIntent, RiskContext, intent_for_modify
from catalyst_ibkr.ports.broker import (
    Accepted,
    BrokerError,
    BrokerUnavailable,
    CancelOrder,
    ModifyOrder,
    OutcomeUnknown,
    Rejected,
)
from catalyst_ibkr.service.errors import InvalidRequest, NotFound
from catalyst_ibkr.service.journal.records import OrderRecord
from catalyst_ibkr.service.journal.store import EventDraft
from catalyst_ibkr.service.oms.apply import mutate
from catalyst_ibkr.service.oms.context import OmsContext
from catalyst_ibkr.service.oms.pipeline import market_for, risk_context
from catalyst_ibkr.service.reconcile import reconcile
from catalyst_ibkr.service.views import CommandView, KillReport
from catalyst_ibkr.service.views_build import order_view

__all__ = ["cancel_all", "cancel_order", "kill", "modify_order"]

log = logging.getLogger("catalyst_ibkr.oms")

_LIVE = ("SUBMITTED", "PARTIALLY_FILLED", "PENDING_CANCEL", "PENDING_MODIFY")


def _find(ctx: OmsContext, order_ref: str) -> OrderRecord:
    if not isinstance(order_ref, str) or not order_ref.strip():
        raise InvalidRequest("order_ref must be a cOID or a broker order id", "order_ref")
    record = ctx.journal.find_order(order_ref.strip())
    if record is None:
        raise NotFound("order", order_ref)
    return record


async def _send(
    ctx: OmsContext, call: Awaitable[Accepted | Rejected]
) -> Accepted | Rejected | str:
    try:
        return await call
    except OutcomeUnknown as exc:
        return f"unknown: {exc.detail}"
    except BrokerUnavailable as exc:
        return f"unavailable: {exc.detail}"
    except BrokerError as exc:
        return f"unknown: {exc}"


async def cancel_order(ctx: OmsContext, order_ref: str) -> CommandView:
    record = _find(ctx, order_ref)
    ref = record.order_ref
    status = record.order.status
    if status.is_closed:
        raise InvalidRequest(f"order {ref} is already {status.value}; nothing to cancel")
    if status.is_in_flight:
        raise InvalidRequest(
            f"order {ref} is {status.value}: its send is being reconciled; cancel it once it "
            "is SUBMITTED, or use cancel-all / kill, which cancel at the broker by account"
        )
    decision = ctx.risk.evaluate(CancelIntent(None if record.external else ClientOrderId(ref)),
                                 _cancel_context(ctx))
    if decision.denial is not None:
        return CommandView("cancel", "DENIED", ref, decision.denial.message,
                           decision.denial.reason_code.value)
    async with ctx.writer:
        updated = mutate(ctx, ref, lambda r: _request_cancel(r, ctx))
    assert updated is not None
    request = CancelOrder(
        client_order_id=None if record.external else ClientOrderId(ref),
        broker_order_id=record.order.broker_order_id,
    )
    outcome = await _send(ctx, ctx.broker.cancel(request))
    async with ctx.writer:
        view = _cancel_outcome(ctx, ref, outcome)
    return view


def _request_cancel(record: OrderRecord, ctx: OmsContext) -> bool:
    try:
        record.order.request_cancel(ctx.now())
    except IllegalTransition as exc:
        raise InvalidRequest(f"order {record.order_ref} cannot be cancelled now: {exc}") from None
    return True


def _cancel_outcome(ctx: OmsContext, ref: str, outcome: Accepted | Rejected | str) -> CommandView:
    now = ctx.now()
    if isinstance(outcome, Accepted):
        status, detail = "ACCEPTED", outcome.detail or "cancel requested; watch the order"
    elif isinstance(outcome, Rejected) or outcome.startswith("unavailable"):
        status = "REJECTED"
        detail = outcome.reason if isinstance(outcome, Rejected) else f"not sent: {outcome}"

        def back(record: OrderRecord) -> bool:
            try:
                record.order.cancel_rejected(detail, now)
            except IllegalTransition:
                return False
            return True

        mutate(ctx, ref, back)
    else:
        status, detail = "PENDING", f"{outcome}; left PENDING_CANCEL until evidence"
    record = ctx.journal.load_order(ref)
    orders = (order_view(record),) if record is not None else ()
    return CommandView("cancel", status, ref, detail, orders=orders)


async def modify_order(
    ctx: OmsContext, order_ref: str, *, quantity: Decimal | None, limit_price: Decimal | None,
    stop_price: Decimal | None,
) -> CommandView:
    if quantity is None and limit_price is None and stop_price is None:
        raise InvalidRequest("give at least one of quantity, limit_price, stop_price to change")
    for name, value in (("quantity", quantity), ("limit_price", limit_price),
                        ("stop_price", stop_price)):
        if value is not None and (not isinstance(value, Decimal) or not value.is_finite()
                                  or value <= 0):
            raise InvalidRequest(f"{name} must be a positive decimal number", name)
    record = _find(ctx, order_ref)
    ref = record.order_ref
    if record.external:
        raise InvalidRequest(f"order {ref} was placed outside this service; it can only be "
                             "cancelled here")
    if record.order.status.value not in ("SUBMITTED", "PARTIALLY_FILLED"):
        raise InvalidRequest(f"order {ref} is {record.order.status.value}; only a SUBMITTED or "
                             "PARTIALLY_FILLED order can be modified")
    kind = record.order.order_type
    if limit_price is not None and not kind.needs_limit_price:
        raise InvalidRequest(f"limit_price cannot be set on a {kind} order", "limit_price")
    if stop_price is not None and not kind.needs_stop_price:
        raise InvalidRequest(f"stop_price cannot be set on a {kind} order", "stop_price")
    if quantity is not None and quantity <= record.order.filled_quantity:
        raise InvalidRequest(f"quantity must exceed the filled {record.order.filled_quantity}; "
                             "cancel instead", "quantity")
    intent = intent_for_modify(record.order, quantity=quantity, limit_price=limit_price,
                               stop_price=stop_price)
    market = await market_for(ctx, record.order.symbol)
    if market is None:
        return CommandView("modify", "DENIED", ref, "the broker cannot be read now; try again "
                           "after it reconnects", "BROKER_OUTAGE_HOLD")
    try:
        context = risk_context(ctx, market)
    except ValueError as exc:
        return CommandView("modify", "DENIED", ref, str(exc), "NO_REFERENCE_PRICE")
    decision = ctx.risk.evaluate(intent, context)
    if decision.denial is not None:
        return CommandView("modify", "DENIED", ref, decision.denial.message,
                           decision.denial.reason_code.value)
    change = ModifyRequest(quantity=quantity, limit_price=limit_price, stop_price=stop_price)

    def request(rec: OrderRecord) -> bool:
        try:
            rec.order.request_modify(change, ctx.now())
        except InvalidInput as exc:
            raise InvalidRequest(str(exc)) from None
        except IllegalTransition as exc:
            raise InvalidRequest(f"order {ref} cannot be modified now: {exc}") from None
        return True

    async with ctx.writer:
        mutate(ctx, ref, request)
    outcome = await _send(ctx, ctx.broker.modify(ModifyOrder(
        client_order_id=ClientOrderId(ref), quantity=quantity, limit_price=limit_price,
        stop_price=stop_price, broker_order_id=record.order.broker_order_id)))
    now = ctx.now()
    async with ctx.writer:
        if isinstance(outcome, Accepted):
            status, detail = "ACCEPTED", outcome.detail or "modify accepted"
            mutate(ctx, ref, lambda r: _try(lambda: r.order.modify_accepted(now)))
        elif isinstance(outcome, Rejected) or outcome.startswith("unavailable"):
            status = "REJECTED"
            detail = outcome.reason if isinstance(outcome, Rejected) else f"not sent: {outcome}"
            mutate(ctx, ref, lambda r: _try(lambda: r.order.modify_rejected(detail, now)))
        else:
            status, detail = "PENDING", f"{outcome}; left PENDING_MODIFY until evidence"
        final = ctx.journal.load_order(ref)
    return CommandView("modify", status, ref, detail,
                       orders=(order_view(final),) if final is not None else ())


def _try(action: Callable[[], None]) -> bool:
    try:
        action()
    except IllegalTransition:
        return False
    return True


async def cancel_all(ctx: OmsContext, *, actor: str) -> CommandView:
    """Cancel every working order of the account at the broker (ours and external)."""
    now = ctx.now()
    ctx.journal.audit(actor, "cancel_all", {}, now)
    live = [r.order_ref for r in ctx.journal.orders(statuses=_LIVE)]
    async with ctx.writer:
        for ref in live:
            mutate(ctx, ref, lambda r: _try(lambda: r.order.request_cancel(now)))
    outcome = await _send(ctx, ctx.broker.cancel_all())
    async with ctx.writer:
        if isinstance(outcome, Accepted):
            status, detail = "ACCEPTED", outcome.detail or "cancel requested for every order"
        elif isinstance(outcome, Rejected) or outcome.startswith("unavailable"):
            status = "REJECTED"
            detail = outcome.reason if isinstance(outcome, Rejected) else f"not sent: {outcome}"
            for ref in live:
                mutate(ctx, ref, lambda r: _try(lambda: r.order.cancel_rejected(detail, now)))
        else:
            status, detail = "PENDING", f"{outcome}; orders left PENDING_CANCEL until evidence"
        ctx.emit([EventDraft("order", {"command": "cancel_all", "status": status,
                                       "actor": actor})])
        orders = tuple(order_view(r) for r in ctx.journal.orders() if r.order_ref in live)
    return CommandView("cancel_all", status, None, detail, orders=orders)


async def kill(ctx: OmsContext, *, actor: str, poll_s: float) -> KillReport:
    """HALTED (persisted), cancel everything, then verify by reconciliation that no working
    order remains at the broker; repeat per-order cancels for stragglers a few rounds."""
    started = ctx.now()
    ctx.journal.set_trading_state(
        TradingState.HALTED, actor, started, "kill",
        events=[EventDraft("risk", {"trading_state": "HALTED", "actor": actor,
                                    "command": "kill"})],
    )
    ctx.journal.set_kill_pending(True)
    ctx.notifier.notify()
    result = await cancel_all(ctx, actor=actor)
    remaining: list[OrderRecord] = []
    verified = False
    detail = result.detail
    for round_no in range(ctx.budgets.kill_rounds):
        outcome = await reconcile(ctx, "kill")
        try:
            still = await ctx.broker.open_orders()
        except (BrokerUnavailable, OutcomeUnknown) as exc:
            detail = f"cannot verify: {exc}"
            still = None
        if still is not None and outcome != "unavailable" and not still:
            verified = True
            break
        if still:
            for report in still:
                await _send(ctx, ctx.broker.cancel(CancelOrder(
                    client_order_id=report.client_order_id,
                    broker_order_id=report.broker_order_id)))
        if round_no + 1 < ctx.budgets.kill_rounds:
            await asyncio.sleep(poll_s)
    remaining = ctx.journal.orders(statuses=_LIVE)
    if verified:
        ctx.journal.set_kill_pending(False)
        detail = "no working order remains at the broker (verified by reconciliation)"
    else:
        ctx.alert("kill_unverified", f"kill by {actor}: working orders may remain: {detail}")
    ctx.journal.audit(actor, "kill", {"verified": verified, "cancel": result.status}, ctx.now())
    return KillReport(
        trading_state=TradingState.HALTED.value,
        cancel_status=result.status,
        verified=verified,
        remaining=tuple(order_view(r) for r in remaining),
        started_at=started,
        finished_at=ctx.now(),
        detail=detail,
    )


def _cancel_context(ctx: OmsContext) -> RiskContext:
    return RiskContext(now=ctx.now(), instrument=None, broker_hold_reason=_outage(ctx))


def _outage(ctx: OmsContext) -> str | None:
    """Only a real outage stops a cancel (not drift, not in-doubt: cancelling is safe)."""
    keys = [k for k in ctx.holds if k in ("session", "broker")]
    return "; ".join(ctx.holds[k] for k in keys) or None


