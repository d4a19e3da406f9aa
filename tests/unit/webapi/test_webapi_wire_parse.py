"""Wire models and parsers on payloads shaped like the recordings in cpapi.md."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from catalyst_ibkr.adapters.webapi import parse
from catalyst_ibkr.adapters.webapi.errors import redact
from catalyst_ibkr.adapters.webapi.wire import (
    AuthStatus,
    LiveOrders,
    OrderRequest,
    Position,
    SecdefSearchRow,
    SnapshotRow,
    StockEntry,
    SummaryValue,
    TickleResponse,
    Trade,
    decimal_or_none,
)
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.order_fsm import OrderStatus

NOW = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,300", Decimal("1300")),
        ("271.67", Decimal("271.67")),
        (0.56, Decimal("0.56")),
        (192, Decimal(192)),
        ("N/A", None),
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_decimal_spellings(raw: object, expected: Decimal | None) -> None:
    assert decimal_or_none(raw) == expected


def test_decimal_garbage_is_an_error_not_zero() -> None:
    with pytest.raises(ValueError):
        decimal_or_none("12abc")


def test_market_value_prefixes() -> None:
    assert parse.market_value("C193.18") == parse.MarketValue(Decimal("193.18"), closed=True)
    assert parse.market_value("H12.50").halted
    assert parse.market_value("N/A").value is None
    assert parse.market_value("junk").value is None


def test_snapshot_preflight_and_populated() -> None:
    pre = parse.snapshot_quote(SnapshotRow.model_validate({"conid": 265598, "conidEx": "265598"}))
    assert pre.missing(parse.QUOTE_FIELDS) == ["31", "84", "86"]
    assert pre.to_quote(NOW) is None
    row = SnapshotRow.model_validate(
        {
            "31": "C168.42",
            "84": "168.41",
            "85": "600",
            "86": "168.42",
            "88": "1,300",
            "6509": "RpB",
            "_updated": 1712596911593,
            "conid": "265598",
            "conidEx": "265598",
            "server_id": "q1",
        }
    )
    q = parse.snapshot_quote(row)
    assert q.missing(parse.QUOTE_FIELDS) == []
    assert q.last.closed and q.bid_size == Decimal(1300) and q.availability == "RpB"
    quote = q.to_quote(NOW)
    assert quote is not None and quote.bid == Decimal("168.41") and quote.conid == 265598
    assert quote.time == datetime.fromtimestamp(1712596911.593, tz=UTC)


def test_conid_string_and_restricted_string() -> None:
    row = SecdefSearchRow.model_validate(
        {"conid": "272093", "symbol": "MSFT", "restricted": "CFD", "sections": []}
    )
    assert row.conid == 272093


def test_live_orders_to_reports() -> None:
    orders = LiveOrders.model_validate(
        {
            "orders": [
                {
                    "acct": "U1234567",
                    "conid": 265598,
                    "orderId": 1234568790,
                    "ticker": "AAPL",
                    "side": "SELL",
                    "status": "Filled",
                    "order_ccp_status": "Filled",
                    "orderType": "Market",
                    "totalSize": 5.0,
                    "filledQuantity": 5.0,
                    "remainingQuantity": 0.0,
                    "avgPrice": "192.26",
                    "price": "457.00",
                    "order_ref": "Order123",
                    "timeInForce": "GTC",
                    "lastExecutionTime_r": 1702317649000,
                }
            ],
            "snapshot": True,
        }
    )
    report = parse.live_order_report(orders.orders[0], NOW)
    assert report.client_order_id == "Order123"
    assert report.broker_order_id == "1234568790"
    assert report.side is Side.SELL and report.order_type is OrderType.MKT
    assert report.status is OrderStatus.FILLED
    assert report.avg_fill_price == Decimal("192.26") and report.limit_price is None
    assert report.quantity == Decimal(5)


def test_trade_to_execution() -> None:
    trade = Trade.model_validate(
        {
            "execution_id": "0000e0d5.6576fd38.01.01",
            "symbol": "AAPL",
            "side": "S",
            "trade_time": "20231211-18:00:49",
            "size": 5.0,
            "price": "192.26",
            "order_ref": "Order123",
            "commission": "1.01",
            "net_amount": 961.3,
            "account": "U1234567",
            "conid": 265598,
            "order_id": 1777439171105,
        }
    )
    ex = parse.execution_report(trade)
    assert ex.side is Side.SELL and ex.price == Decimal("192.26")
    assert ex.time == datetime(2023, 12, 11, 18, 0, 49, tzinfo=UTC)
    assert ex.commission == Decimal("1.01")


def test_positions_summary_stocks() -> None:
    pos = Position.model_validate(
        {
            "acctId": "U1234567",
            "conid": 756733,
            "ticker": "SPY",
            "position": 100.0,
            "avgPrice": 437.43,
            "avgCost": 437.43,
        }
    )
    rep = parse.position_report(pos, "U1234567")
    assert rep.quantity == Decimal(100) and rep.avg_cost == Decimal("437.43")
    summary = {
        k: SummaryValue.model_validate(v)
        for k, v in {
            "netliquidation": {"amount": 11527.61, "currency": "EUR", "timestamp": 1777120379000},
            "buyingpower": {"amount": 40000.5, "currency": "EUR"},
            "totalcashvalue": {"amount": 1000, "currency": "EUR"},
        }.items()
    }
    acct = parse.account_summary("U1234567", summary, NOW)
    assert acct.currency == "EUR" and acct.net_liquidation == Decimal("11527.61")
    stocks = {
        "AAPL": [
            StockEntry.model_validate(
                {
                    "name": "APPLE INC",
                    "assetClass": "STK",
                    "contracts": [
                        {"conid": 38708077, "exchange": "MEXI", "isUS": False},
                        {"conid": 265598, "exchange": "NASDAQ", "isUS": True},
                    ],
                }
            )
        ]
    }
    cands = parse.stock_candidates(stocks)["AAPL"]
    assert [c.conid for c in cands] == [265598, 38708077]


def test_auth_and_tickle_never_show_session() -> None:
    tickle = TickleResponse.model_validate(
        {
            "session": "bb665d0f55b6289d70bc7380089fc96f",
            "ssoExpires": 460311,
            "iserver": {
                "authStatus": {"authenticated": True, "connected": True, "competing": False}
            },
        }
    )
    assert tickle.auth is not None and tickle.auth.healthy
    assert "bb665d0f" not in repr(tickle)
    health = parse.session_health(AuthStatus.model_validate({"authenticated": False}), NOW)
    assert not health.ok


def test_order_request_validation_and_exact_numbers() -> None:
    with pytest.raises(ValidationError):
        OrderRequest(conid=1, cOID="x", side="HOLD", orderType="LMT", quantity=Decimal(1))
    with pytest.raises(ValidationError):
        OrderRequest(conid=1, cOID="x", side="BUY", orderType="LMT", quantity=Decimal(0))
    order = OrderRequest(
        conid=1,
        cOID="x",
        side="BUY",
        orderType="LMT",
        quantity=Decimal("0.5"),
        price=Decimal("1234.5678"),
    )
    assert order.to_wire()["price"] == 1234.5678
    with pytest.raises(ValueError):
        OrderRequest(
            conid=1,
            cOID="x",
            side="BUY",
            orderType="LMT",
            quantity=Decimal(1),
            price=Decimal("1.00000000000000000001"),
        ).to_wire()


def test_redact() -> None:
    text = redact('{"USER_NAME": "joe", "session": "abc"} x-sess-uuid=123 ' + "a" * 400)
    assert "joe" not in text and "123" not in text and len(text) <= 300
