"""The fake TWS as ib_async sees it, over a real loopback socket: every reply ib_async's
startup sync waits for, contract details, snapshot ticks, the order message sequence, and
the error codes the simulator produces (200, 201, 326, 100, 202)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from ib_async import IB, Contract, LimitOrder, MarketOrder, Stock

from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def connect(tws_sim: RunningSim) -> AsyncIterator[Callable[..., Any]]:
    clients: list[Any] = []

    async def make(client_id: int = 5, **kwargs: Any) -> Any:
        ib = IB()
        clients.append(ib)
        kwargs.setdefault("timeout", 3)
        await ib.connectAsync("127.0.0.1", tws_sim.tws_port, clientId=client_id, **kwargs)
        return ib

    yield make
    for ib in clients:
        ib.disconnect()


async def until(check: Callable[[], bool], within_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {within_s}s")
        await asyncio.sleep(0.01)


async def test_startup_sync_is_complete(connect: Callable[..., Any]) -> None:
    # raiseSyncErrors turns any startup request the fake leaves unanswered into an error
    ib = await connect(raiseSyncErrors=True)
    assert ib.managedAccounts() == ["DU1234567"]
    assert {v.tag for v in ib.accountValues()} >= {"NetLiquidation", "BuyingPower"}
    assert (await ib.reqCurrentTimeAsync()).tzinfo is not None


async def test_contract_details_and_unknown_symbol(connect: Callable[..., Any]) -> None:
    ib = await connect()
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    assert aapl.conId == 265598 and aapl.primaryExchange == "NASDAQ"
    [details] = await ib.reqContractDetailsAsync(Contract(conId=265598))
    assert details.minTick == 0.01 and details.stockType == "COMMON"
    assert await ib.reqContractDetailsAsync(Stock("ZZZZQX", "SMART", "USD")) == []


async def test_snapshot_ticks_follow_the_sim_market(
    connect: Callable[..., Any], tws_sim: RunningSim
) -> None:
    tws_sim.set_market("AAPL", bid="150.00", ask="150.02", last="150.01")
    ib = await connect()
    [ticker] = await ib.reqTickersAsync(Stock("AAPL", "SMART", "USD", conId=265598))
    assert (ticker.bid, ticker.ask, ticker.last) == (150.0, 150.02, 150.01)
    assert ticker.bidSize > 0 and ticker.askSize > 0


async def test_market_order_lifecycle(connect: Callable[..., Any], tws_sim: RunningSim) -> None:
    tws_sim.set_market("AAPL", bid="100.00", ask="100.02", last="100.01")
    ib = await connect()
    contract = Stock("AAPL", "SMART", "USD", conId=265598)
    commissions: list[Any] = []
    ib.commissionReportEvent += lambda trade, fill, report: commissions.append(report)
    trade = ib.placeOrder(contract, MarketOrder("BUY", 10, orderRef="proto-mkt-1"))
    await until(trade.isDone)
    assert trade.orderStatus.status == "Filled" and trade.orderStatus.filled == 10
    assert trade.orderStatus.avgFillPrice == 100.02 and trade.orderStatus.clientId == 5
    assert sum(f.execution.shares for f in trade.fills) == 10
    assert all(f.execution.orderRef == "proto-mkt-1" for f in trade.fills)
    await until(lambda: len(commissions) == len(trade.fills))
    assert all(c.commission > 0 and c.currency == "USD" for c in commissions)
    await until(lambda: any(p.position == 10 for p in ib.positions()))
    executions = await ib.reqExecutionsAsync()
    assert {f.execution.execId for f in trade.fills} <= {f.execution.execId for f in executions}


async def test_limit_order_cancel_and_completed_orders(connect: Callable[..., Any]) -> None:
    ib = await connect()
    contract = Stock("AAPL", "SMART", "USD", conId=265598)
    trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00, orderRef="proto-lmt-1"))
    await until(lambda: trade.orderStatus.status == "Submitted")
    assert trade.order.permId > 0
    ib.cancelOrder(trade.order)
    await until(lambda: trade.orderStatus.status == "Cancelled")
    completed = await ib.reqCompletedOrdersAsync(False)
    mine = [t for t in completed if t.order.orderRef == "proto-lmt-1"]
    assert len(mine) == 1 and mine[0].orderStatus.status == "Cancelled"
    assert mine[0].order.permId == trade.order.permId


async def test_rejection_is_error_201(connect: Callable[..., Any]) -> None:
    ib = await connect()
    contract = Stock("AAPL", "SMART", "USD", conId=265598)
    errors: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, msg, c: errors.append((req_id, code))
    first = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00, orderRef="proto-dup"))
    await until(lambda: first.orderStatus.status == "Submitted")
    second = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00, orderRef="proto-dup"))
    await until(lambda: (second.order.orderId, 201) in errors)
    assert second.orderStatus.status == "Cancelled"  # ib_async's reading of a rejection


async def test_large_order_fills_in_partial_slices(
    connect: Callable[..., Any], tws_sim: RunningSim
) -> None:
    tws_sim.set_market("AAPL", bid="100.00", ask="100.02", last="100.01")
    ib = await connect()
    contract = Stock("AAPL", "SMART", "USD", conId=265598)
    trade = ib.placeOrder(contract, LimitOrder("BUY", 5000, 100.02, orderRef="proto-big"))
    await until(lambda: len(trade.fills) >= 2 or trade.isDone(), within_s=10)
    statuses = [e.status for e in trade.log]
    assert len(trade.fills) >= 2, "a 5000-share order at the touch should fill in slices"
    assert "Submitted" in statuses
    ib.cancelOrder(trade.order)


async def test_client_id_in_use_is_error_326(
    connect: Callable[..., Any], tws_sim: RunningSim
) -> None:
    await connect(client_id=9)
    second = IB()
    codes: list[int] = []
    second.errorEvent += lambda req_id, code, msg, c: codes.append(code)
    with pytest.raises((ConnectionError, TimeoutError, OSError)):
        await second.connectAsync("127.0.0.1", tws_sim.tws_port, clientId=9, timeout=2)
    second.disconnect()
    assert 326 in codes


@pytest.mark.sim_options(pacing=True)
async def test_over_fifty_messages_a_second_is_error_100(
    tws_sim: RunningSim,
) -> None:
    ib = IB()
    ib.client.MaxRequests = 0  # switch off ib_async's own throttle to provoke the limit
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, c: codes.append(code)
    await ib.connectAsync("127.0.0.1", tws_sim.tws_port, clientId=11, timeout=3)
    try:
        for _ in range(80):
            ib.client.reqCurrentTime()
        await until(lambda: 100 in codes)
    finally:
        ib.disconnect()


async def test_connectivity_notices_reach_the_client(
    connect: Callable[..., Any], tws_sim: RunningSim
) -> None:
    ib = await connect()
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, c: codes.append(code)
    tws_sim.fault("tws_disconnect", notice=1102, seconds=0.2)
    await until(lambda: codes[-1:] == [1102] and 1100 in codes)
    assert ib.isConnected()


async def test_disconnect_fault_closes_the_socket(
    connect: Callable[..., Any], tws_sim: RunningSim
) -> None:
    ib = await connect()
    lost = asyncio.Event()
    ib.disconnectedEvent += lost.set
    tws_sim.fault("tws_disconnect")
    await asyncio.wait_for(lost.wait(), 5)


def test_tws_disconnect_fault_validation(tws_sim: RunningSim) -> None:
    with tws_sim.client() as client:
        bad = client.post("/sim/faults", json={"kind": "tws_disconnect", "on": "explode"})
        assert bad.status_code == 400 and "'on'" in bad.text
        bad = client.post("/sim/faults", json={"kind": "tws_disconnect", "notice": 1100})
        assert bad.status_code == 400 and "1101 or 1102" in bad.text



async def test_a_closed_position_is_pushed_as_zero(
    connect: Callable[..., Any], tws_sim: RunningSim
) -> None:
    tws_sim.set_market("AAPL", bid="100.00", ask="100.02", last="100.01")
    ib = await connect()
    contract = Stock("AAPL", "SMART", "USD", conId=265598)
    buy = ib.placeOrder(contract, MarketOrder("BUY", 2, orderRef="proto-open"))
    await until(buy.isDone)
    await until(lambda: any(p.position == 2 for p in ib.positions()))
    sell = ib.placeOrder(contract, MarketOrder("SELL", 2, orderRef="proto-close"))
    await until(sell.isDone)
    await until(lambda: not any(p.contract.conId == 265598 for p in ib.positions()))


def test_pending_tws_faults_are_listed_with_their_trigger(tws_sim: RunningSim) -> None:
    tws_sim.fault("tws_disconnect", on="cancel")
    assert {"kind": "tws_disconnect", "count": 1, "on": "cancel"} in tws_sim.state()["faults"]
