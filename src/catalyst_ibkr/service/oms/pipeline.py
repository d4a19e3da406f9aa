"""From a journaled signal to a journaled intent: expiry, the hold, risk, then the send.

Why risk runs here (in the worker) and not at intake: intake must never wait on the broker,
and risk needs the instrument, a quote and buying power, which are broker reads. The order
counts against the limits from the moment it is journaled (working and in-doubt orders are
read back from the journal for every decision), and a denial ends the signal with no
broker command at all (only reads happened).

Why a broker-outage hold is a wait and not a denial (interfaces.md): the signal was fine, the
broker was not. It stays RECEIVED (journaled, so it survives a restart) and owns no order
row, so it counts against no limit while it waits; it is decided once the hold clears, or
EXPIRES when its TTL runs out first. The operator's HALTED state is a denial (risk).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.order_factory import orders_from_signal
from catalyst_ibkr.core.orders import Order
from catalyst_ibkr.core.risk import (
    Decision,
    Denial,
    ReasonCode,
    RiskContext,
    intent_for_order,
    position_exposures,
)
from catalyst_ibkr.ports.broker import BrokerUnavailable, InstrumentNotFound, OutcomeUnknown
from catalyst_ibkr.service.journal.records import SignalRecord
from catalyst_ibkr.service.journal.store import EventDraft
from catalyst_ibkr.service.oms.context import OmsContext
from catalyst_ibkr.service.oms.send import send_intent

__all__ = ["PASS_BUDGET_S", "PASS_LIMIT", "mark_for", "market_for", "process_signals",
           "risk_context"]

log = logging.getLogger("catalyst_ibkr.oms")

_RECENT = timedelta(hours=1)
#: one pass expires or decides at most this many signals, and starts no decision after
#: PASS_BUDGET_S. Small on purpose: the pass reads (and decodes) that many signals up front,
#: and at the broker's pace only a few are decided within the budget, so a pass that read
#: 100 threw most of that work away and read them again on the next pass.
PASS_LIMIT = 16
PASS_BUDGET_S = 0.25
_OPEN = ("PENDING_SUBMIT", "IN_DOUBT", "SUBMITTED", "PARTIALLY_FILLED", "PENDING_CANCEL",
         "PENDING_MODIFY")


@dataclass(frozen=True, slots=True)
class _Market:
    instrument: Instrument | None
    quote: Quote | None
    buying_power: Decimal | None


def mark_for(ctx: OmsContext, conid: ConId) -> Decimal | None:
    quote = ctx.quotes.get(conid)
    if quote is None:
        return None
    return quote.mid if quote.mid is not None else quote.last


async def market_for(
    ctx: OmsContext, symbol: str, exchange: str | None = None, currency: str | None = None
) -> _Market | None:
    """Broker reads for a decision; None when the broker cannot answer (wait, not deny)."""
    try:
        instrument = ctx.instruments.get(symbol)
        if instrument is None:
            try:
                instrument = await ctx.broker.resolve(
                    symbol, exchange=exchange, currency=currency or "USD"
                )
                ctx.instruments[symbol] = instrument
            except InstrumentNotFound:
                return _Market(None, None, None)
        quotes = await ctx.broker.quotes([instrument.conid])
        quote = next((q for q in quotes if q.conid == instrument.conid), None)
        if quote is not None:
            ctx.quotes[instrument.conid] = quote
        account = await ctx.broker.account()
    except (BrokerUnavailable, OutcomeUnknown) as exc:
        ctx.hold("broker", f"broker reads failing: {exc}")
        return None
    return _Market(instrument, quote, account.buying_power)


def risk_context(ctx: OmsContext, market: _Market) -> RiskContext:
    """Everything true now, from the journal (orders, fills, state) and the broker reads.
    Raises ValueError when an open order cannot be valued (the caller denies: fail closed)."""
    now = ctx.now()
    # Two disjoint reads instead of "every open order" + "every recent order", which read
    # (and decoded) each recent open order twice per decision.
    # read_orders: decoded once per order version and shared, so nothing below may change them
    recent_records = ctx.journal.read_orders(created_since=now - _RECENT)
    older_open = ctx.journal.read_orders(statuses=_OPEN, created_before=now - _RECENT)
    open_records = older_open + [r for r in recent_records if r.order.status.value in _OPEN]
    book, _ = ctx.positions.book()
    marks = {c: m for c in ctx.quotes if (m := mark_for(ctx, c)) is not None}
    unrealized = sum(
        (p.unrealized_pnl(marks[p.conid]) for p in book.positions
         if not p.is_flat and p.conid in marks),
        Decimal(0),
    )
    # Derived once per order version (service/oms/risk_inputs.py), not once per decision.
    derived = ctx.risk_inputs
    working = [w for r in open_records
               if (w := derived.working(r, marks.get(r.order.conid))) is not None]
    recent = [
        derived.recent(r)
        for r in recent_records
        if not r.external and r.parent_ref is None and r.created_at >= now - _RECENT
    ]
    derived.prune([*older_open, *recent_records])
    return RiskContext(
        now=now,
        instrument=market.instrument,
        quote=market.quote,
        trading_state=ctx.journal.trading_state()[0],
        broker_hold_reason=ctx.hold_reason,
        positions=position_exposures(book.positions, lambda c: mark_for(ctx, c)),
        working_orders=tuple(working),
        buying_power=market.buying_power,
        daily_pnl=book.realized_pnl + unrealized,
        recent_orders=tuple(recent),
    )


async def process_signals(ctx: OmsContext) -> int:
    """Expire what is due, then decide the oldest RECEIVED signals that can be decided now,
    in one bounded pass (PASS_LIMIT, PASS_BUDGET_S); returns how many moved.

    Why bounded: a pass over a backlog of thousands of signals at the broker's pace took
    minutes, and the loop's full iteration (health, in-flight orders, reconciliation) waited
    behind it. A pass that stops early with work left wakes the loop, which goes on at once.
    """
    moved = 0
    # Bounded too: each expiry is its own transaction, and a backlog that expires at once
    # (an outage under a flood of signals) must not hold the event loop for seconds.
    due = ctx.journal.signals_due_to_expire(ctx.now(), limit=PASS_LIMIT)
    for record in due:
        moved += _expire_if_due(ctx, record)
    if len(due) == PASS_LIMIT:
        ctx.wake.set()  # more are due: the next pass goes on at once
        return moved
    if ctx.held:
        return moved  # broker-outage hold / startup barrier: signals wait (TTL still runs)
    loop = asyncio.get_running_loop()
    started = loop.time()
    batch = ctx.journal.signals_with_status("RECEIVED", limit=PASS_LIMIT)
    more = len(batch) == PASS_LIMIT  # more may wait behind this batch
    for index, record in enumerate(batch):
        if index and loop.time() - started >= PASS_BUDGET_S:
            more = True
            break
        if _expire_if_due(ctx, record):
            moved += 1
            continue
        if ctx.held:
            return moved  # a hold went up during this pass: the rest wait for its release
        signal = record.signal
        market = await market_for(ctx, signal.symbol, signal.exchange, signal.currency)
        if market is None:
            continue
        async with ctx.writer:
            # the body never changes: only whether another writer decided it meanwhile
            if ctx.journal.signal_status(str(record.signal.id)) != "RECEIVED":
                continue
            if _expire_if_due(ctx, record):
                moved += 1
                continue
            if ctx.held:
                continue  # a hold went up during the broker reads: wait, do not deny
            parent = _decide(ctx, record, market)
        moved += 1
        if parent is not None:
            await send_intent(ctx, parent)
    if moved and more:
        ctx.wake.set()  # go on at once, after whatever else the loop has to do
    return moved


def _expire_if_due(ctx: OmsContext, record: SignalRecord) -> bool:
    now = ctx.now()
    if not record.signal.is_expired(now):
        return False
    reason = f"unsent when its ttl of {record.signal.ttl_s}s ran out; never sent late"
    if ctx.journal.settle_signal(
        str(record.signal.id), expect="RECEIVED", status="EXPIRED", now=now,
        reason_code="EXPIRED", reason=reason,
        events=[EventDraft("signal", {"id": record.signal.id, "status": "EXPIRED",
                                      "reason_code": "EXPIRED"})],
    ):
        ctx.metrics.signals.labels("expired").inc()
        ctx.notifier.notify()
        log.info("signal %s expired unsent", record.signal.id)
    return True


def _decide(ctx: OmsContext, record: SignalRecord, market: _Market) -> str | None:
    """Run risk and journal the outcome; the parent's cOID when an intent was journaled."""
    signal = record.signal
    now = ctx.now()
    orders: tuple[Order, ...] = ()
    decision: Decision
    if market.instrument is None:
        decision = Decision(Denial(ReasonCode.INSTRUMENT_NOT_FOUND,
                                   f"IBKR has no contract for {signal.symbol}"))
    else:
        try:
            orders = orders_from_signal(signal, market.instrument)
        except InvalidInput as exc:
            code = ReasonCode.INVALID_QUANTITY if any(
                i.field == "quantity" for i in exc.issues) else ReasonCode.INVALID_PRICE
            decision = Decision(Denial(code, str(exc)))
        else:
            try:
                decision = ctx.risk.evaluate(intent_for_order(orders[0]),
                                             risk_context(ctx, market))
            except ValueError as exc:
                decision = Decision(Denial(ReasonCode.NO_REFERENCE_PRICE, str(exc)))
    if decision.trip_to is not None:
        ctx.journal.set_trading_state(
            decision.trip_to, "risk", now, "daily loss limit breached",
            events=[EventDraft("risk", {"trading_state": decision.trip_to.value,
                                        "actor": "risk"})],
        )
    sid = str(signal.id)
    if decision.reason_code is ReasonCode.BROKER_OUTAGE_HOLD:
        return None  # an outage is a wait, never a verdict: the signal stays RECEIVED
    if decision.denial is not None:
        denial = decision.denial
        if ctx.journal.settle_signal(
            sid, expect="RECEIVED", status="DENIED", now=now, risk_decision="DENIED",
            reason_code=denial.reason_code.value, reason=denial.message,
            events=[EventDraft("signal", {"id": sid, "status": "DENIED",
                                          "reason_code": denial.reason_code.value})],
        ):
            ctx.metrics.signals.labels("denied").inc()
            ctx.notifier.notify()
        return None
    if ctx.dry_run:
        ctx.journal.settle_signal(
            sid, expect="RECEIVED", status="REJECTED", now=now, risk_decision="ALLOWED",
            reason_code="DRY_RUN", reason="dry run: allowed by risk, not sent",
            events=[EventDraft("signal", {"id": sid, "status": "REJECTED",
                                          "reason_code": "DRY_RUN"})],
        )
        ctx.notifier.notify()
        return None
    for order in orders:
        order.mark_submitting(now)
    parent = str(orders[0].client_order_id)
    if not ctx.journal.settle_signal(
        sid, expect="RECEIVED", status="PENDING_SUBMIT", now=now, risk_decision="ALLOWED",
        new_orders=orders, lease_owner=ctx.owner, lease_until=now + ctx.budgets.lease,
        send_attempts=1,
        events=[EventDraft("signal", {"id": sid, "status": "PENDING_SUBMIT",
                                      "client_order_id": parent})],
    ):
        # Another process journaled this intent first (it sends, not us), or the cOID is
        # already known from IBKR (adopted before its signal was decided): link, never resend.
        existing = ctx.journal.load_order(parent)
        if existing is not None and existing.order.signal_id is None:
            ctx.journal.link_adopted(sid, parent, now)
            ctx.alert("coid_already_at_broker",
                      f"signal {sid}: IBKR already holds cOID {parent}; adopted, not resent")
        return None
    ctx.sending.add(parent)  # still under the writer lock: no resolver can slip in first
    ctx.metrics.signals.labels("allowed").inc()
    ctx.notifier.notify()
    return parent
