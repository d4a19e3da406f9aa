"""Read-only views for the facade: positions, account and risk usage.

Why apart from the engine: these only read the journal (and the broker's account summary);
keeping them here leaves engine.py about lifecycle and state changes.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.positions import PositionBook
from catalyst_ibkr.ports.broker import BrokerUnavailable, OutcomeUnknown
from catalyst_ibkr.service.oms.context import OmsContext
from catalyst_ibkr.service.oms.pipeline import mark_for
from catalyst_ibkr.service.views import AccountView, PositionView, RiskView

__all__ = ["OPEN_STATUSES", "account", "positions", "risk"]

OPEN_STATUSES = ("PENDING_SUBMIT", "IN_DOUBT", "SUBMITTED", "PARTIALLY_FILLED",
                 "PENDING_CANCEL", "PENDING_MODIFY")


async def positions(ctx: OmsContext) -> list[PositionView]:
    book, symbols = ctx.positions.book()
    drifted: set[int] = set()
    if "drift" in ctx.holds:
        drifted = set(_drift_from(ctx))
    out = []
    for position in book.positions:
        conid = int(position.conid)
        if position.is_flat and position.realized_pnl == 0:
            continue
        mark = mark_for(ctx, position.conid)
        quote = ctx.quotes.get(position.conid)
        out.append(PositionView(
            conid=conid, symbol=symbols.get(conid, "?"), quantity=position.quantity,
            avg_price=position.avg_price, realized_pnl=position.realized_pnl,
            broker_quantity=ctx.broker_positions.get(conid),
            drift=conid in drifted, mark_price=mark,
            unrealized_pnl=None if mark is None else position.unrealized_pnl(mark),
            mark_time=None if mark is None or quote is None else quote.time,
        ))
    return out


async def account(ctx: OmsContext) -> AccountView:
    book, _ = ctx.positions.book()
    try:
        summary = await ctx.broker.account()
    except (BrokerUnavailable, OutcomeUnknown) as exc:
        return AccountView(None, None, None, None, None, None, book.realized_pnl,
                           detail=f"broker account unavailable: {exc}")
    return AccountView(
        account=str(summary.account), currency=summary.currency,
        net_liquidation=summary.net_liquidation, buying_power=summary.buying_power,
        cash=summary.cash, as_of=summary.time, realized_pnl=book.realized_pnl,
        unrealized_pnl=summary.unrealized_pnl,
    )


async def risk(ctx: OmsContext) -> RiskView:
    state, actor, at = ctx.journal.trading_state()
    limits = ctx.risk.limits
    open_records = ctx.journal.orders(statuses=OPEN_STATUSES)
    working = Decimal(0)
    for record in open_records:
        order = record.order
        price = order.limit_price or order.stop_price or mark_for(ctx, order.conid)
        if price is not None:
            working += (order.quantity - order.filled_quantity) * price
    book, _ = ctx.positions.book()
    return RiskView(
        trading_state=state.value, trading_state_changed_by=actor,
        trading_state_changed_at=at, broker_hold=ctx.held,
        hold_reasons=tuple(f"{k}: {v}" for k, v in sorted(ctx.holds.items())),
        limits={f.name: _text(getattr(limits, f.name)) for f in fields(limits)},
        open_orders=len(open_records),
        in_doubt_orders=sum(1 for r in open_records if r.order.status.value == "IN_DOUBT"),
        working_notional=working,
        gross_exposure=book.gross_exposure(_marks(ctx, book)),
        realized_pnl=book.realized_pnl,
    )


def _marks(ctx: OmsContext, book: PositionBook) -> dict[ConId, Decimal]:
    """A price for every open position: the latest quote, else its average price (never a
    KeyError for an instrument we hold but have not quoted since the start)."""
    out: dict[ConId, Decimal] = {}
    for position in book.positions:
        if position.is_flat:
            continue
        mark = mark_for(ctx, position.conid)
        if mark is None and position.avg_price is not None:
            mark = abs(position.avg_price)
        out[position.conid] = mark if mark is not None else Decimal(0)
    return out


def _text(value: object) -> str:
    if isinstance(value, frozenset | set | tuple | list):
        return ",".join(sorted(str(v) for v in value))
    return "" if value is None else str(value)


def _drift_from(ctx: OmsContext) -> list[int]:
    expected = ctx.positions.quantities()
    return [
        conid for conid in set(expected) | set(ctx.broker_positions)
        if conid != 0
        and expected.get(conid, Decimal(0)) != ctx.broker_positions.get(conid, Decimal(0))
    ]
