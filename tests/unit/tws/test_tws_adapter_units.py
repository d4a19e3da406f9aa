"""The TWS adapter's pure edges: URL parsing for ``--gateway tws://``, settings validation, and
the ib_async -> core conversions (floats become exact Decimals; "no data" never a price)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ib_async import CommissionReport, Contract, Execution, Fill, Order, OrderStatus, Trade

from catalyst_ibkr.adapters.tws import (
    TwsSettings,
    convert,
    is_tws_url,
    make_tws_broker,
    parse_tws_url,
)
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import AccountId
from catalyst_ibkr.core.order_fsm import OrderStatus as Status

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ACCT = AccountId("DU1234567")


@pytest.mark.parametrize(("url", "expected"), [
    ("tws://127.0.0.1:4002", ("127.0.0.1", 4002)),
    ("TWS://ibga:4001/", ("ibga", 4001)),
    ("tws://[::1]:7497", ("::1", 7497)),
])
def test_parse_tws_url(url: str, expected: tuple[str, int]) -> None:
    assert parse_tws_url(url) == expected and is_tws_url(url)


@pytest.mark.parametrize(("url", "hint"), [
    ("https://localhost:5000", "not a TWS address"),
    ("tws://:4002", "no host"),
    ("tws://127.0.0.1", "needs a port"),
    ("tws://127.0.0.1:99999", "needs a port"),
    ("tws://127.0.0.1:4002/path", "only tws://HOST:PORT"),
])
def test_bad_tws_urls_say_what_to_fix(url: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        parse_tws_url(url)


def test_settings_refuse_pacing_above_ibkr_limit() -> None:
    with pytest.raises(ValueError, match="50"):
        TwsSettings(max_msgs_per_s=51)
    with pytest.raises(ValueError, match="client id"):
        TwsSettings(client_id=-1)


def test_factory_applies_client_id_and_pacing() -> None:
    broker = make_tws_broker("tws://127.0.0.1:4002", 12, account="DU1")
    assert broker.settings.client_id == 12 and broker.settings.account == "DU1"
    client = broker.ib.client
    # 40 messages per second, in slices short enough that a late one keeps TWS's window
    # under 50, and long enough to hold one signal's messages (quote, open and completed
    # orders, placeOrder) so a lone order is not held back by its own reads
    assert client.MaxRequests / client.RequestsInterval == pytest.approx(40)
    assert client.RequestsInterval <= 0.2 and client.MaxRequests + 40 <= 50
    assert client.MaxRequests >= 5


@pytest.mark.parametrize("raw", [math.nan, -1.0, 1.7976931348623157e308, math.inf, None, ""])
def test_no_data_is_never_a_price(raw: object) -> None:
    assert convert.decimal_or_none(raw) is None


def test_floats_become_exact_decimals() -> None:
    assert convert.decimal_or_none(100.01) == Decimal("100.01")
    assert str(convert.decimal_or_none(0.1)) == "0.1"


def _trade(status: str, **order_fields: object) -> Trade:
    fields: dict[str, object] = {"orderRef": "sig-1", **order_fields}
    order = Order(orderId=5, clientId=7, permId=1000000042, action="SELL", totalQuantity=3.0,
                  orderType="STP LMT", lmtPrice=99.5, auxPrice=99.75, tif="GTC",
                  account="DU1234567", **fields)
    contract = Contract(conId=265598, symbol="AAPL", secType="STK")
    return Trade(contract, order, OrderStatus(orderId=5, status=status, filled=1.0,
                                              avgFillPrice=99.6), [], [])


def test_order_report_from_a_trade() -> None:
    report = convert.order_report(_trade("Submitted"), ACCT, NOW)
    assert report is not None
    assert report.client_order_id == "sig-1" and report.broker_order_id == "1000000042"
    assert report.side is Side.SELL and report.order_type is OrderType.STP_LMT
    assert (report.limit_price, report.stop_price) == (Decimal("99.5"), Decimal("99.75"))
    assert report.status is Status.SUBMITTED and report.filled_quantity == 1
    assert report.avg_fill_price == Decimal("99.6") and report.updated_at == NOW


def test_completed_order_fill_count_wins_over_empty_status() -> None:
    report = convert.order_report(_trade("Cancelled", filledQuantity=2.0), ACCT, NOW)
    assert report is not None and report.filled_quantity == 2
    assert report.status is Status.CANCELLED


def test_foreign_order_ref_is_not_our_coid() -> None:
    report = convert.order_report(_trade("Submitted", orderRef="manual order"), ACCT, NOW)
    assert report is not None and report.client_order_id is None  # an external order
    assert convert.client_order_id("has space") is None
    assert convert.client_order_id("") is None


def test_execution_report_keeps_ids_and_commission() -> None:
    ex = Execution(execId="0000e0d5.6576fd38.01.01", time=NOW, acctNumber="DU1234567",
                   side="BOT", shares=2.0, price=100.02, permId=1000000042, orderId=5,
                   orderRef="sig-1")
    fill = Fill(Contract(conId=265598, symbol="AAPL"), ex,
                CommissionReport(execId=ex.execId, commission=1.0), NOW)
    report = convert.execution_report(fill, ACCT)
    assert report.execution_id == ex.execId and report.side is Side.BUY
    assert (report.quantity, report.price, report.commission) == (2, Decimal("100.02"), 1)
    no_commission = Fill(fill.contract, ex, CommissionReport(), NOW)
    assert convert.execution_report(no_commission, ACCT).commission is None
