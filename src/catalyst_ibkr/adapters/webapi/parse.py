"""Pure functions: Client Portal wire models -> plain values (core and port types).

No I/O and no clock reads (callers pass ``now``), so every quirk is tested on recorded
payloads. What gets interpreted here and nowhere else:

- market-data strings: ``C``-prefixed last = previous close (no trade yet), ``H`` = halted,
  thousands commas, ``N/A``/``-`` placeholders;
- the three time formats (epoch ms ``*_r``/``_updated``, ``YYMMDDHHmmss``,
  ``YYYYMMDD-HH:mm:ss``), all UTC;
- side spellings (``B``/``S``/``BUY``/``Buy``) and order-type spellings (``Limit``,
  ``LMT``, ``STOP_LIMIT`` ...);
- a place/reply answer: accepted order(s) vs a question to answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import (
    AccountId,
    BrokerOrderId,
    ClientOrderId,
    ConId,
    ExecutionId,
)
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.status_maps import map_client_portal_status
from catalyst_ibkr.ports.broker import (
    AccountSummary,
    ExecutionReport,
    OrderReport,
    PositionReport,
    SessionHealth,
)

from .wire import (
    AuthStatus,
    HistoryResponse,
    LiveOrder,
    OrderQuestion,
    OrderSubmitted,
    PnlPartitioned,
    Position,
    SnapshotRow,
    StockEntry,
    SummaryValue,
    Trade,
    decimal_or_none,
)
from .wire import OrderStatus as WireOrderStatus

__all__ = [
    "FIELD_ASK",
    "FIELD_ASK_SIZE",
    "FIELD_AVAILABILITY",
    "FIELD_BID",
    "FIELD_BID_SIZE",
    "FIELD_LAST",
    "QUOTE_FIELDS",
    "Bar",
    "MarketValue",
    "OrderAccepted",
    "PlacementStep",
    "PnlLine",
    "QuestionAsked",
    "SnapshotQuote",
    "StockCandidate",
    "account_summary",
    "execution_report",
    "from_epoch_ms",
    "history_bars",
    "live_order_report",
    "market_value",
    "order_status_report",
    "parse_compact_time",
    "parse_order_type",
    "parse_side",
    "parse_trade_time",
    "placement_steps",
    "pnl_lines",
    "position_report",
    "session_health",
    "snapshot_quote",
    "stock_candidates",
]

FIELD_LAST = "31"
FIELD_BID = "84"
FIELD_ASK = "86"
FIELD_BID_SIZE = "88"
FIELD_ASK_SIZE = "85"
FIELD_AVAILABILITY = "6509"
QUOTE_FIELDS: tuple[str, ...] = (FIELD_LAST, FIELD_BID, FIELD_ASK)


# -- times ----------------------------------------------------------------------------------


def from_epoch_ms(ms: int | float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def parse_compact_time(text: str) -> datetime:
    """``YYMMDDHHmmss`` (``lastExecutionTime``, ``order_time``), UTC."""
    return datetime.strptime(text, "%y%m%d%H%M%S").replace(tzinfo=UTC)


def parse_trade_time(text: str) -> datetime:
    """``YYYYMMDD-HH:mm:ss`` (``trade_time``), UTC."""
    return datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)


# -- market data ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketValue:
    value: Decimal | None
    closed: bool = False  # "C" prefix: the previous close, no trade yet today
    halted: bool = False  # "H" prefix


def market_value(raw: Any) -> MarketValue:
    """One market-data field value. Unparseable text counts as absent, never as zero."""
    if isinstance(raw, str):
        text = raw.strip()
        closed = text.startswith("C")
        halted = text.startswith("H")
        if closed or halted:
            text = text[1:]
        try:
            return MarketValue(decimal_or_none(text), closed=closed, halted=halted)
        except ValueError:
            return MarketValue(None)
    try:
        return MarketValue(decimal_or_none(raw))
    except ValueError:
        return MarketValue(None)


@dataclass(frozen=True, slots=True)
class SnapshotQuote:
    """One snapshot row, interpreted. ``present`` lists the field codes that had a value."""

    conid: int
    last: MarketValue
    bid: MarketValue
    ask: MarketValue
    bid_size: Decimal | None
    ask_size: Decimal | None
    availability: str | None
    updated: datetime | None
    present: frozenset[str]

    def missing(self, requested: Iterable[str]) -> list[str]:
        """Requested fields not in this row yet (pre-flight answers have none)."""
        return [f for f in requested if f not in self.present]

    def to_quote(self, now: datetime) -> Quote | None:
        """A core ``Quote`` (time = IBKR's ``_updated`` or ``now``); None without prices."""
        prices = [self.bid.value, self.ask.value, self.last.value]
        if all(p is None or p <= 0 for p in prices):
            return None

        def positive(v: Decimal | None) -> Decimal | None:
            return v if v is not None and v > 0 else None

        return Quote(
            conid=ConId(self.conid),
            bid=positive(self.bid.value),
            ask=positive(self.ask.value),
            last=positive(self.last.value),
            time=self.updated or now,
        )


def snapshot_quote(row: SnapshotRow) -> SnapshotQuote:
    fields = row.fields
    present = frozenset(k for k, v in fields.items() if market_value(v).value is not None)
    availability = fields.get(FIELD_AVAILABILITY)
    return SnapshotQuote(
        conid=row.conid,
        last=market_value(fields.get(FIELD_LAST)),
        bid=market_value(fields.get(FIELD_BID)),
        ask=market_value(fields.get(FIELD_ASK)),
        bid_size=market_value(fields.get(FIELD_BID_SIZE)).value,
        ask_size=market_value(fields.get(FIELD_ASK_SIZE)).value,
        availability=availability if isinstance(availability, str) else None,
        updated=from_epoch_ms(row.updated) if row.updated else None,
        present=present
        | (frozenset({FIELD_AVAILABILITY}) if isinstance(availability, str) else frozenset()),
    )


@dataclass(frozen=True, slots=True)
class Bar:
    time: datetime
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal | None
    volume: Decimal | None


def history_bars(history: HistoryResponse) -> list[Bar]:
    return [
        Bar(from_epoch_ms(b.t), b.o, b.h, b.l, b.c, b.v)
        for b in sorted(history.data, key=lambda b: b.t)
    ]


# -- contracts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StockCandidate:
    symbol: str
    conid: int
    name: str | None
    exchange: str | None
    is_us: bool | None


def stock_candidates(stocks: Mapping[str, Sequence[StockEntry]]) -> dict[str, list[StockCandidate]]:
    """``/trsrv/stocks`` -> every (symbol, conid) candidate, US listings first."""
    out: dict[str, list[StockCandidate]] = {}
    for symbol, entries in stocks.items():
        cands = [
            StockCandidate(symbol.upper(), c.conid, e.name, c.exchange, c.isUS)
            for e in entries
            for c in e.contracts
        ]
        cands.sort(key=lambda c: (c.is_us is not True,))
        out[symbol.upper()] = cands
    return out


# -- orders ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    order_id: BrokerOrderId
    status: str | None


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    reply_id: str
    message_ids: tuple[str, ...]
    text: str
    options: tuple[str, ...]


PlacementStep = OrderAccepted | QuestionAsked


def placement_steps(answer: Sequence[OrderSubmitted | OrderQuestion]) -> list[PlacementStep]:
    """A place/reply/modify answer as accepted orders and questions, in IBKR's order."""
    steps: list[PlacementStep] = []
    for item in answer:
        if isinstance(item, OrderSubmitted):
            steps.append(OrderAccepted(BrokerOrderId(item.order_id), item.order_status))
        else:
            steps.append(
                QuestionAsked(
                    reply_id=item.id,
                    message_ids=tuple(item.messageIds),
                    text="\n".join(item.message),
                    options=tuple(item.messageOptions),
                )
            )
    return steps


_SIDES = {
    "B": Side.BUY,
    "BUY": Side.BUY,
    "BOT": Side.BUY,
    "S": Side.SELL,
    "SELL": Side.SELL,
    "SLD": Side.SELL,
}
_ORDER_TYPES = {
    "MKT": OrderType.MKT,
    "MARKET": OrderType.MKT,
    "LMT": OrderType.LMT,
    "LIMIT": OrderType.LMT,
    "STP": OrderType.STP,
    "STOP": OrderType.STP,
    "STPLMT": OrderType.STP_LMT,
    "STOPLIMIT": OrderType.STP_LMT,
}
_TIFS = {
    "DAY": TimeInForce.DAY,
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "CLOSE": TimeInForce.DAY,
}


def parse_side(raw: str | None) -> Side:
    side = _SIDES.get((raw or "").strip().upper())
    if side is None:
        raise ValueError(f"unknown side {raw!r}")
    return side


def parse_order_type(raw: str | None) -> OrderType:
    key = "".join(ch for ch in (raw or "").upper() if ch.isalpha())
    order_type = _ORDER_TYPES.get(key)
    if order_type is None:
        raise ValueError(f"unknown order type {raw!r}")
    return order_type


def _coid(raw: str | None) -> ClientOrderId | None:
    if not raw:
        return None
    try:
        return ClientOrderId(raw)
    except ValueError:
        return None  # an external order's free-text order_ref


def live_order_report(order: LiveOrder, now: datetime) -> OrderReport:
    """One row of ``/iserver/account/orders`` (or a full ``sor`` frame)."""
    total = order.totalSize or Decimal(0)
    filled = order.filledQuantity or Decimal(0)
    order_type = parse_order_type(order.orderType or order.origOrderType)
    price = order.price
    return OrderReport(
        client_order_id=_coid(order.order_ref),
        broker_order_id=BrokerOrderId(order.orderId),
        account=AccountId(order.acct or order.account or ""),
        conid=ConId(order.conid or 0),
        symbol=order.ticker or "",
        side=parse_side(order.side),
        order_type=order_type,
        quantity=total if total > 0 else filled + (order.remainingQuantity or Decimal(0)),
        filled_quantity=filled,
        status=map_client_portal_status(order.status, order.order_ccp_status),
        updated_at=from_epoch_ms(order.lastExecutionTime_r) if order.lastExecutionTime_r else now,
        limit_price=price if order_type in (OrderType.LMT, OrderType.STP_LMT) else None,
        stop_price=price if order_type is OrderType.STP else None,
        avg_fill_price=order.avgPrice,
        tif=_TIFS.get((order.timeInForce or "DAY").upper(), TimeInForce.DAY),
    )


def order_status_report(status: WireOrderStatus, now: datetime) -> OrderReport:
    """``/iserver/account/order/status/{id}``; it has no cOID (the caller knows it)."""
    order_type = parse_order_type(status.order_type)
    total = status.total_size or Decimal(0)
    return OrderReport(
        client_order_id=None,
        broker_order_id=BrokerOrderId(status.order_id),
        account=AccountId(status.account or ""),
        conid=ConId(status.conid or 0),
        symbol=status.symbol or "",
        side=parse_side(status.side),
        order_type=order_type,
        quantity=total,
        filled_quantity=status.cum_fill or Decimal(0),
        status=map_client_portal_status(status.order_status),
        updated_at=now,
        limit_price=status.limit_price,
        avg_fill_price=status.average_price,
        tif=_TIFS.get((status.tif or "DAY").upper(), TimeInForce.DAY),
    )


def execution_report(trade: Trade) -> ExecutionReport:
    if trade.trade_time_r is not None:
        when = from_epoch_ms(trade.trade_time_r)
    elif trade.trade_time:
        when = parse_trade_time(trade.trade_time)
    else:
        raise ValueError(f"trade {trade.execution_id} has no time")
    if trade.size is None or trade.price is None:
        raise ValueError(f"trade {trade.execution_id} has no size or price")
    return ExecutionReport(
        execution_id=ExecutionId(trade.execution_id),
        client_order_id=_coid(trade.order_ref),
        broker_order_id=BrokerOrderId(trade.order_id if trade.order_id is not None else "0"),
        account=AccountId(trade.account or ""),
        conid=ConId(trade.conid or 0),
        symbol=trade.symbol or "",
        side=parse_side(trade.side),
        quantity=abs(trade.size),
        price=trade.price,
        time=when,
        commission=trade.commission,
    )


def position_report(position: Position, account: str) -> PositionReport:
    return PositionReport(
        account=AccountId(position.acctId or account),
        conid=ConId(position.conid),
        symbol=position.ticker or position.contractDesc or "",
        quantity=position.position or Decimal(0),
        avg_cost=position.avgPrice or position.avgCost or Decimal(0),
    )


def account_summary(
    account: str, summary: Mapping[str, SummaryValue], now: datetime
) -> AccountSummary:
    """Net liquidation, buying power and cash from ``/portfolio/{acct}/summary``."""

    def amount(*keys: str) -> Decimal:
        for key in keys:
            item = summary.get(key)
            if item is not None and item.amount is not None and not item.isNull:
                return item.amount
        raise ValueError(f"account summary has none of {', '.join(keys)}")

    currency = next(
        (v.currency for k, v in summary.items() if k == "netliquidation" and v.currency), "USD"
    )
    stamps = [v.timestamp for v in summary.values() if v.timestamp]
    return AccountSummary(
        account=AccountId(account),
        currency=currency,
        net_liquidation=amount("netliquidation"),
        buying_power=amount("buyingpower", "availablefunds"),
        cash=amount("totalcashvalue"),
        time=from_epoch_ms(max(stamps)) if stamps else now,
    )


@dataclass(frozen=True, slots=True)
class PnlLine:
    key: str  # "<account>.Core"
    daily: Decimal | None
    unrealized: Decimal | None
    net_liquidation: Decimal | None
    market_value: Decimal | None


def pnl_lines(pnl: PnlPartitioned) -> list[PnlLine]:
    return [PnlLine(k, r.dpl, r.upl, r.nl, r.mv) for k, r in sorted(pnl.upnl.items())]


# -- session --------------------------------------------------------------------------------


def session_health(auth: AuthStatus, now: datetime) -> SessionHealth:
    detail = auth.fail or auth.message or ""
    return SessionHealth(
        connected=auth.connected,
        authenticated=auth.authenticated,
        competing=auth.competing,
        time=now,
        detail=detail,
    )
