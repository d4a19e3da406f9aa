"""Mark prices for held positions, refreshed from the broker on a fixed pace.

Why: unrealized P&L (the positions view, the demo report, the daily-loss rule) used the
quote cache, which only moved when a signal for that symbol was decided: a position not
traded for an hour showed the price of an hour ago as if it were current. The broker's
position report carries no market price (`PositionReport` has quantity and average cost
only), so the marks come from `Broker.quotes` for the held conids: ONE batch per
reconciliation interval at most (the Web API meters market-data snapshots; a view read must
never cost a broker call), and every mark keeps its quote's time, which the positions view
shows beside it so a reader sees how old it is.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.ports.broker import BrokerUnavailable, OutcomeUnknown
from catalyst_ibkr.service.oms.context import OmsContext

__all__ = ["refresh_marks"]

log = logging.getLogger("catalyst_ibkr.oms")

#: a snapshot request names at most this many conids (bounded, whatever the book holds)
MAX_CONIDS = 50


async def refresh_marks(ctx: OmsContext) -> int:
    """Quote the held conids if a reconciliation interval has passed since the last batch
    (tried or not: a failing broker is not asked again sooner). Returns how many marks moved."""
    now = ctx.now()
    interval = timedelta(seconds=ctx.budgets.reconcile_interval_s)
    if ctx.marks_refreshed_at is not None and now - ctx.marks_refreshed_at < interval:
        return 0
    if {"startup", "session", "broker"} & set(ctx.holds):
        return 0  # the broker is out: a read would fail and only add to its load
    book, _ = ctx.positions.book()
    held = sorted({p.conid for p in book.positions if not p.is_flat})
    ctx.marks_refreshed_at = now
    if not held:
        return 0
    if len(held) > MAX_CONIDS:
        # the stalest first, so that every position gets its turn over a few intervals
        held.sort(key=lambda c: (c in ctx.quotes, ctx.quotes[c].time if c in ctx.quotes
                                 else now))
        held = held[:MAX_CONIDS]
    try:
        quotes = await ctx.broker.quotes([ConId(c) for c in held])
    except (BrokerUnavailable, OutcomeUnknown) as exc:
        log.info("marks not refreshed: %s", exc)
        return 0
    moved = 0
    for quote in quotes:
        known = ctx.quotes.get(quote.conid)
        if quote.mid is None and quote.last is None:
            continue  # no price in it: keep the older mark (its time says how old)
        if known is None or quote.time >= known.time:
            ctx.quotes[quote.conid] = quote
            moved += 1
    return moved
