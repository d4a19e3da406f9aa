"""Send one journaled intent (with its bracket legs) and journal what the broker answered.

Why the outcome handling is this strict: it is where duplicates are born. `Accepted` and
`Rejected` are definitive; a duplicate-cOID rejection means an earlier attempt landed, so the
order is looked up and adopted, never marked rejected; `OutcomeUnknown` (and anything
unexpected) leaves the order IN_DOUBT for the resolver; `BrokerUnavailable` proves nothing
left the process, so the order stays journaled and may be sent again with the SAME cOID.
The broker call happens outside the writer lock (a slow send does not stall fills); the
lease taken when the intent was journaled keeps every other resolver away meanwhile.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from catalyst_ibkr.core.enums import OrderType
from catalyst_ibkr.core.errors import IllegalTransition
from catalyst_ibkr.core.ids import BrokerOrderId, ClientOrderId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.orders import OrderStatus
from catalyst_ibkr.ports.broker import (
    Accepted,
    BracketLeg,
    BrokerError,
    BrokerUnavailable,
    InstrumentNotFound,
    OutcomeUnknown,
    PlaceOrder,
    Rejected,
)
from catalyst_ibkr.service.journal.records import OrderRecord
from catalyst_ibkr.service.oms.apply import mutate
from catalyst_ibkr.service.oms.context import OmsContext

__all__ = ["is_duplicate_coid", "send_intent"]

log = logging.getLogger("catalyst_ibkr.oms")

_IN_FLIGHT = (OrderStatus.PENDING_SUBMIT, OrderStatus.IN_DOUBT)


def is_duplicate_coid(outcome: Rejected) -> bool:
    """IBKR's answer to a second order with a cOID it already holds."""
    return outcome.code == "DUPLICATE_COID" or "already registered" in outcome.reason.lower()


async def instrument_for(ctx: OmsContext, record: OrderRecord) -> Instrument | None:
    order = record.order
    known = ctx.instruments.get(order.symbol)
    if known is None:
        try:
            known = await ctx.broker.resolve(order.symbol)
        except (BrokerUnavailable, InstrumentNotFound, OutcomeUnknown):
            return None
        ctx.instruments[order.symbol] = known
    return known if known.conid == order.conid else None


def _legs(children: list[OrderRecord]) -> tuple[BracketLeg, ...]:
    legs = []
    # take-profit (LMT) first, then stop-loss, as the order factory builds them
    for child in sorted(children, key=lambda c: c.order.order_type is not OrderType.LMT):
        order = child.order
        price = order.limit_price if order.order_type is OrderType.LMT else order.stop_price
        if price is None:  # unreachable: order_factory builds LMT take-profits, STP stops
            raise ValueError(f"bracket leg {child.order_ref} has no price")
        legs.append(BracketLeg(ClientOrderId(child.order_ref), order.order_type, price))
    return tuple(legs)


def children_of(ctx: OmsContext, parent: OrderRecord) -> list[OrderRecord]:
    if parent.order.signal_id is None:
        return []
    return [
        r for r in ctx.journal.orders(signal_id=str(parent.order.signal_id))
        if r.parent_ref == parent.order_ref
    ]


async def send_intent(ctx: OmsContext, parent_ref: str) -> str:
    """Send the parent (and its legs) once; returns the outcome word for metrics/tests."""
    ctx.sending.add(parent_ref)  # from here on the resolver leaves this order alone
    try:
        return await _send(ctx, parent_ref)
    finally:
        ctx.sending.discard(parent_ref)


async def _send(ctx: OmsContext, parent_ref: str) -> str:
    parent = ctx.journal.load_order(parent_ref)
    if parent is None or parent.order.status not in _IN_FLIGHT:
        return "skipped"
    instrument = await instrument_for(ctx, parent)
    if instrument is None:
        _release(ctx, parent_ref)
        return "no_instrument"
    children = children_of(ctx, parent)
    late = await _last_look(ctx, parent, children)
    if late is not None:
        return late
    order = parent.order
    request = PlaceOrder(
        client_order_id=ClientOrderId(parent.order_ref),
        instrument=instrument,
        side=order.side,
        quantity=order.quantity,
        order_type=order.order_type,
        tif=order.tif,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        outside_rth=order.outside_rth,
        strategy=order.strategy,
        legs=_legs(children),
    )
    try:
        outcome: Accepted | Rejected | str = await ctx.broker.place(request)
    except OutcomeUnknown as exc:
        outcome = f"unknown: {exc.detail}"
    except BrokerUnavailable as exc:
        outcome = f"unavailable: {exc.detail}"
    except BrokerError as exc:
        outcome = f"unknown: {exc}"
    except Exception as exc:  # after sending, anything unexpected is an unknown outcome
        log.exception("place %s raised", parent_ref)
        outcome = f"unknown: {type(exc).__name__}"
    async with ctx.writer:
        return _apply_outcome(ctx, parent_ref, [c.order_ref for c in children], outcome)


async def _last_look(
    ctx: OmsContext, parent: OrderRecord, children: list[OrderRecord]
) -> str | None:
    """Right before `place` (the awaits since the decision may have taken a while): a
    signal whose TTL ran out is never sent late, and nothing is sent while an outage hold is
    up. Returns the outcome word when the send must not happen, None to go on."""
    now = ctx.now()
    signal = (None if parent.order.signal_id is None
              else ctx.journal.get_signal(str(parent.order.signal_id)))
    if signal is not None and signal.signal.is_expired(now):
        why = f"unsent when its ttl of {signal.signal.ttl_s}s ran out; never sent late"
        async with ctx.writer:
            for ref in [parent.order_ref, *(c.order_ref for c in children)]:
                mutate(ctx, ref, lambda r: _close_unsent(r, now, why),
                       lease_owner=None, lease_until=None)
        ctx.metrics.sends.labels("expired").inc()
        log.info("intent %s expired before it was sent", parent.order_ref)
        return "expired"
    if any(key != "in_doubt" for key in ctx.holds):
        # Provably not sent: the same as BrokerUnavailable; the resolver sends it (same
        # cOID) after the hold clears, or closes it when the TTL runs out first.
        _release(ctx, parent.order_ref)
        ctx.metrics.sends.labels("held").inc()
        return "held"
    return None


def _close_unsent(record: OrderRecord, now: datetime, why: str) -> bool:
    order = record.order
    if order.status is OrderStatus.PENDING_SUBMIT:
        order.expire(now, why)
        return True
    if order.status is OrderStatus.IN_DOUBT:  # only reached after the resolver proved absence
        order.reject(f"absent at IBKR: {why}", now)
        return True
    return False


def _apply_outcome(
    ctx: OmsContext, parent_ref: str, child_refs: list[str], outcome: Accepted | Rejected | str
) -> str:
    now = ctx.now()
    refs = [parent_ref, *child_refs]
    if isinstance(outcome, Accepted):
        for ref in refs:
            broker_id = outcome.broker_order_id if ref == parent_ref else None

            def accept(
                record: OrderRecord, broker_id: BrokerOrderId | None = broker_id
            ) -> bool:
                order = record.order
                if order.status in _IN_FLIGHT:
                    order.accept(now, broker_id)
                    return True
                if order.broker_order_id is None and broker_id is not None:
                    order.broker_order_id = broker_id
                    return True
                return False  # events already moved it on (fill before ack)

            mutate(ctx, ref, accept, lease_owner=None, lease_until=None, in_doubt_since=None)
        ctx.metrics.sends.labels("accepted").inc()
        return "accepted"
    if isinstance(outcome, Rejected) and not is_duplicate_coid(outcome):
        for ref in refs:

            def reject(record: OrderRecord) -> bool:
                if record.order.status not in _IN_FLIGHT:
                    return False
                record.order.reject(outcome.reason, now)
                return True

            mutate(ctx, ref, reject, lease_owner=None, lease_until=None)
        ctx.metrics.sends.labels("rejected").inc()
        return "rejected"
    if isinstance(outcome, str) and outcome.startswith("unavailable"):
        ctx.hold("broker", f"broker unavailable: {outcome}")
        _release(ctx, parent_ref)
        ctx.metrics.sends.labels("unavailable").inc()
        return "unavailable"
    # Unknown outcome, or "already registered" (the earlier attempt landed): IN_DOUBT, look it up.
    detail = (
        f"duplicate cOID: an earlier attempt landed ({outcome.reason})"
        if isinstance(outcome, Rejected)
        else outcome
    )
    for ref in refs:

        def doubt(record: OrderRecord) -> bool:
            if record.order.status not in _IN_FLIGHT:
                return False
            try:
                record.order.mark_in_doubt(now, detail)
            except IllegalTransition:
                return False
            return True

        since = ctx.journal.load_order(ref)
        mutate(
            ctx, ref, doubt, lease_owner=None, lease_until=None,
            in_doubt_since=(since.in_doubt_since if since and since.in_doubt_since else now),
        )
    ctx.next_check[parent_ref] = now  # look at once (evidence may already be there)
    ctx.metrics.sends.labels("duplicate" if isinstance(outcome, Rejected) else "unknown").inc()
    return "duplicate" if isinstance(outcome, Rejected) else "unknown"


def _release(ctx: OmsContext, ref: str) -> None:
    """Give up our lease now, so the resolver may act on the order without waiting it out."""
    record = ctx.journal.load_order(ref)
    if record is not None and record.lease_owner == ctx.owner:
        ctx.journal.take_lease(record, ctx.owner, ctx.now() - timedelta(seconds=1), ctx.now())
