"""ib_async objects -> core values, and core requests -> ib_async objects.

This is the boundary: ib_async is untyped and float-based, so every value that crosses it is
read as ``Any`` here and comes out as a Decimal / aware datetime / explicit id, or is refused.
Floats become Decimals through ``repr`` (shortest round-trip text), which turns 100.01 back
into ``Decimal("100.01")`` rather than its binary expansion.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ib_async import Contract, Order

from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.errors import InvalidInput, UnknownBrokerStatus
from catalyst_ibkr.core.ids import AccountId, BrokerOrderId, ClientOrderId, ConId, ExecutionId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.core.status_maps import map_tws_status
from catalyst_ibkr.ports.broker import ExecutionReport, OrderReport, PlaceOrder, PositionReport

__all__ = [
    "broker_order_id",
    "client_order_id",
    "contract_for",
    "decimal_or_none",
    "execution_report",
    "instrument_from_details",
    "order_for",
    "order_report",
    "position_report",
    "quote_from_ticker",
]

#: ib_async/TWS "no value" double (Double.MAX_VALUE).
UNSET_DOUBLE = 1.7976931348623157e308
_WIRE_TYPE = {OrderType.MKT: "MKT", OrderType.LMT: "LMT", OrderType.STP: "STP",
              OrderType.STP_LMT: "STP LMT"}
_CORE_TYPE = {"MKT": OrderType.MKT, "LMT": OrderType.LMT, "STP": OrderType.STP,
              "STP LMT": OrderType.STP_LMT, "STPLMT": OrderType.STP_LMT}


def decimal_or_none(value: Any) -> Decimal | None:
    """A finite, set, non-negative number as Decimal; NaN, unset and -1 ("no data") -> None."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number) or number >= UNSET_DOUBLE or number < 0:
        return None
    try:
        return Decimal(repr(number))
    except InvalidOperation:
        return None


def _decimal(value: Any) -> Decimal:
    number = float(value or 0)
    if math.isnan(number) or math.isinf(number) or abs(number) >= UNSET_DOUBLE:
        return Decimal(0)
    return Decimal(repr(number))


def client_order_id(order_ref: Any) -> ClientOrderId | None:
    """Our cOID from TWS ``orderRef``; anything that is not one of ours reads as None."""
    if not isinstance(order_ref, str) or not order_ref:
        return None
    try:
        return ClientOrderId(order_ref)
    except InvalidInput:
        return None


def broker_order_id(perm_id: Any, order_id: Any) -> BrokerOrderId:
    """permId names an order across clients and reconnects; orderId only until permId comes."""
    perm = int(perm_id or 0)
    return BrokerOrderId(perm if perm > 0 else f"order-{int(order_id or 0)}")


def _aware(when: Any, default: datetime) -> datetime:
    if isinstance(when, datetime) and when.tzinfo is not None and when.year > 1970:
        return when.astimezone(UTC)
    return default


def contract_for(instrument: Instrument) -> Any:
    return Contract(conId=int(instrument.conid), symbol=instrument.symbol,
                    secType=instrument.sec_type, exchange=instrument.exchange,
                    currency=instrument.currency)


def order_for(request: PlaceOrder, account: AccountId) -> Any:
    """The ib_async Order for a request; prices go out as floats because the wire is text
    produced from floats by ib_async (on-tick Decimals round-trip exactly through repr)."""
    order = Order(
        action=request.side.value,
        totalQuantity=float(request.quantity),
        orderType=_WIRE_TYPE[request.order_type],
        tif=request.tif.value,
        outsideRth=request.outside_rth,
        orderRef=str(request.client_order_id),
        account=str(request.account or account),
        transmit=True,
    )
    if request.limit_price is not None:
        order.lmtPrice = float(request.limit_price)
    if request.stop_price is not None:
        order.auxPrice = float(request.stop_price)
    return order


def instrument_from_details(details: Any, exchange: str | None) -> Instrument:
    c = details.contract
    tick = decimal_or_none(details.minTick) or Decimal("0.01")
    return Instrument(conid=ConId(int(c.conId)), symbol=str(c.symbol),
                      sec_type=str(c.secType or "STK"), exchange=exchange or "SMART",
                      currency=str(c.currency or "USD"), tick=tick)


def _status(trade: Any) -> OrderStatus:
    raw = str(trade.orderStatus.status or "")
    try:
        return map_tws_status(raw)
    except UnknownBrokerStatus:
        return OrderStatus.SUBMITTED if raw else OrderStatus.PENDING_SUBMIT


def order_report(trade: Any, account: AccountId, now: datetime) -> OrderReport | None:
    """One ib_async Trade as an OrderReport; None when it lacks what a report needs."""
    order, contract, status = trade.order, trade.contract, trade.orderStatus
    try:
        order_type = _CORE_TYPE[str(order.orderType).upper()]
        side = Side(str(order.action).upper())
        tif = TimeInForce(str(order.tif or "DAY").upper())
    except (KeyError, ValueError):
        return None
    filled = _decimal(status.filled)
    completed_filled = decimal_or_none(getattr(order, "filledQuantity", None))
    if completed_filled is not None and completed_filled > filled:
        filled = completed_filled  # a completedOrder carries the fill count on the order
    updated = _aware(trade.log[-1].time, now) if trade.log else now
    avg = decimal_or_none(status.avgFillPrice)
    return OrderReport(
        client_order_id=client_order_id(order.orderRef),
        broker_order_id=broker_order_id(order.permId or status.permId, order.orderId),
        account=AccountId(str(order.account or account)),
        conid=ConId(int(contract.conId)),
        symbol=str(contract.symbol),
        side=side,
        order_type=order_type,
        quantity=_decimal(order.totalQuantity),
        filled_quantity=filled,
        status=_status(trade),
        updated_at=updated,
        limit_price=decimal_or_none(order.lmtPrice) if order_type in (
            OrderType.LMT, OrderType.STP_LMT) else None,
        stop_price=decimal_or_none(order.auxPrice) if order_type in (
            OrderType.STP, OrderType.STP_LMT) else None,
        avg_fill_price=avg if avg else None,
        tif=tif,
    )


def execution_report(fill: Any, account: AccountId) -> ExecutionReport:
    ex, contract = fill.execution, fill.contract
    report = fill.commissionReport
    commission = _decimal(report.commission) if report is not None and report.execId else None
    return ExecutionReport(
        execution_id=ExecutionId(str(ex.execId)),
        client_order_id=client_order_id(ex.orderRef),
        broker_order_id=broker_order_id(ex.permId, ex.orderId),
        account=AccountId(str(ex.acctNumber or account)),
        conid=ConId(int(contract.conId)),
        symbol=str(contract.symbol),
        side=Side.BUY if str(ex.side).upper() in ("BOT", "BUY") else Side.SELL,
        quantity=_decimal(ex.shares),
        price=_decimal(ex.price),
        time=_aware(ex.time, datetime.now(UTC)),
        commission=commission,
    )


def position_report(position: Any) -> PositionReport:
    return PositionReport(
        account=AccountId(str(position.account)),
        conid=ConId(int(position.contract.conId)),
        symbol=str(position.contract.symbol),
        quantity=_decimal(position.position),
        avg_cost=_decimal(position.avgCost),
    )


def quote_from_ticker(ticker: Any, now: datetime) -> Quote | None:
    bid, ask, last = (decimal_or_none(ticker.bid), decimal_or_none(ticker.ask),
                      decimal_or_none(ticker.last))
    bid, ask, last = (v if v else None for v in (bid, ask, last))
    if bid is None and ask is None and last is None:
        return None
    return Quote(conid=ConId(int(ticker.contract.conId)), bid=bid, ask=ask, last=last,
                 time=_aware(ticker.time, now))
