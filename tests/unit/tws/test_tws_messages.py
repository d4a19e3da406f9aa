"""The fake's messages through ib_async's own decoder (in process, no socket), at the version
a current Gateway negotiates (178) and the one ib_insync uses (176); and ib_async's own
placeOrder encoding through the fake's parser, so both ends agree on field positions."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from ib_async import IB, Contract, LimitOrder, StopOrder
from ib_async.client import Client
from ib_async.decoder import Decoder

from ibkr_sim.engine import Execution, SimOrder, SimPosition
from ibkr_sim.tws import outgoing as out
from ibkr_sim.tws.incoming import parse_place
from ibkr_sim.tws.wire import fmt
from ibkr_sim.universe import Universe

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


def sim_order(**changes: Any) -> SimOrder:
    base: dict[str, Any] = dict(
        order_id=1000000042, coid="sig-1", account="DU1234567", conid=265598, symbol="AAPL",
        side="BUY", order_type="LMT", quantity=Decimal(10), filled_quantity=Decimal(4),
        avg_fill_price=Decimal("100.01"), limit_price=Decimal("100.02"), stop_price=None,
        tif="DAY", outside_rth=False, status="Submitted", created_at=NOW, updated_at=NOW,
    )
    base.update(changes)
    return SimOrder(**base)


@pytest.fixture
def decode(caplog: pytest.LogCaptureFixture) -> Any:
    def run(version: int, fields: list[Any]) -> Any:
        ib = IB()
        ib.wrapper.clientId = 7
        decoder = Decoder(ib.wrapper, version)
        with caplog.at_level(logging.ERROR, logger="ib_async"):
            decoder.interpret([fmt(f) for f in fields])
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, errors[0].getMessage()
        return ib
    return run


@pytest.mark.parametrize("version", [176, 178])
def test_open_order_and_status(decode: Any, version: int) -> None:
    order = sim_order()
    ids = out.OrderIds(5, 7, order.order_id)
    ib = decode(version, out.open_order(version, order, ids, 0))
    [trade] = ib.wrapper.trades.values()
    assert trade.order.orderRef == "sig-1" and trade.order.permId == 1000000042
    assert trade.order.lmtPrice == 100.02 and trade.order.totalQuantity == 10
    assert trade.orderStatus.status == "Submitted" and trade.contract.conId == 265598
    decoder = Decoder(ib.wrapper, version)
    decoder.interpret([fmt(f) for f in out.order_status(order, ids, 0)])
    assert trade.orderStatus.filled == 4 and trade.orderStatus.remaining == 6


@pytest.mark.parametrize("version", [176, 178])
def test_completed_order_carries_fill_count(decode: Any, version: int) -> None:
    order = sim_order(status="Cancelled")
    ib = IB()
    ib.wrapper._results["completedOrders"] = []
    decoder = Decoder(ib.wrapper, version)
    decoder.interpret([fmt(f) for f in out.completed_order(version, order,
                                                             out.OrderIds(5, 7, 1000000042))])
    [trade] = ib.wrapper._results["completedOrders"]
    assert trade.orderStatus.status == "Cancelled" and trade.order.filledQuantity == 4
    assert trade.order.orderRef == "sig-1"


@pytest.mark.parametrize("version", [176, 178])
async def test_contract_details(decode: Any, version: int) -> None:
    ib = IB()
    inst = Universe.load().by_symbol("BRK B")[0]
    future = ib.wrapper.startReq(3)
    decoder = Decoder(ib.wrapper, version)
    decoder.interpret([fmt(f) for f in out.contract_details(version, 3, inst)])
    decoder.interpret([fmt(f) for f in out.contract_details_end(3)])
    [details] = future.result()
    assert details.contract.conId == inst.conid and details.contract.symbol == "BRK B"
    assert details.minTick == 0.01 and details.longName == inst.name


async def test_exec_details_and_commission(decode: Any) -> None:
    ex = Execution(execution_id="0000000a.6576fd38.01.01", order_id=1000000042, coid="sig-1",
                   account="DU1234567", conid=265598, symbol="AAPL", side="SELL",
                   quantity=Decimal(4), price=Decimal("100.01"), commission=Decimal("1.00"),
                   time=NOW, exchange="ISLAND", position_after=Decimal(0),
                   realized_pnl=Decimal("3.5"))
    ib = IB()
    future = ib.wrapper.startReq(9)
    decoder = Decoder(ib.wrapper, 178)
    ids = out.OrderIds(5, 7, 1000000042)
    decoder.interpret([fmt(f) for f in out.exec_details(178, 9, ex, ids, Decimal(4),
                                                         Decimal("100.01"))])
    decoder.interpret([fmt(f) for f in out.commission_report(ex)])
    decoder.interpret([fmt(f) for f in out.exec_details_end(9)])
    [fill] = future.result()
    assert fill.execution.execId == ex.execution_id and fill.execution.side == "SLD"
    assert fill.execution.time == NOW and fill.execution.orderRef == "sig-1"
    assert fill.commissionReport.commission == 1.0 and fill.commissionReport.realizedPNL == 3.5


def test_position_and_portfolio(decode: Any) -> None:
    pos = SimPosition(conid=265598, symbol="AAPL", quantity=Decimal(-3),
                      avg_cost=Decimal("100.5"), realized_pnl=Decimal(0),
                      market_price=Decimal(101), market_value=Decimal(-303),
                      unrealized_pnl=Decimal("-1.5"))
    ib = decode(178, out.position("DU1234567", pos))
    [position] = ib.wrapper.positions["DU1234567"].values()
    assert position.position == -3 and position.avgCost == 100.5
    ib = decode(178, out.portfolio_value("DU1234567", pos, "NASDAQ"))
    [item] = ib.wrapper.portfolio["DU1234567"].values()
    assert item.marketValue == -303


def _encoded_place(contract: Any, order: Any, order_id: int = 12) -> list[str]:
    """What ib_async 2.1.0 would write for placeOrder at version 178."""
    client = Client(IB().wrapper)
    client._serverVersion = 178
    client.connState = Client.CONNECTED
    sent: list[str] = []
    client.sendMsg = sent.append  # type: ignore[method-assign]
    client.placeOrder(order_id, contract, order)
    fields = sent[0].split("\0")
    return fields[:-1] if fields[-1] == "" else fields


def test_place_order_fields_as_ib_async_writes_them() -> None:
    contract = Contract(conId=265598, symbol="AAPL", secType="STK", exchange="SMART",
                        currency="USD")
    order = LimitOrder("SELL", 7, 101.25, orderRef="sig-2", tif="GTC", outsideRth=True,
                       account="DU1234567")
    req = parse_place(_encoded_place(contract, order))
    assert (req.order_id, req.contract.conid, req.action) == (12, 265598, "SELL")
    assert req.quantity == 7 and req.order_type == "LMT" and req.limit_price == Decimal("101.25")
    assert req.aux_price is None and req.tif == "GTC" and req.outside_rth
    assert req.order_ref == "sig-2" and req.account == "DU1234567" and req.transmit


def test_stop_order_and_parent_fields() -> None:
    contract = Contract(conId=265598, exchange="SMART", currency="USD")
    order = StopOrder("SELL", 7, 95.5, orderRef="sig-2-sl", parentId=12, transmit=False)
    req = parse_place(_encoded_place(contract, order, order_id=13))
    assert req.order_type == "STP" and req.aux_price == Decimal("95.5")
    assert req.parent_id == 12 and not req.transmit
