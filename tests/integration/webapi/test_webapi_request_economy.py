"""The Web API adapter spends no request it does not need (issue 9, workloads (1) and (2)).

Each test counts what the simulator received, never how long it took: the simulator's own
``GET /sim/state`` totals, and per endpoint through an observer on its pacer (it only
records what arrives and changes no decision). A failure here means a change made a
workload send more requests than the rules need, which costs pacing budget and wall time.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalyst_ibkr.adapters.webapi.broker import WebApiBroker
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.ports.broker import Accepted, PlaceOrder
from ibkr_sim.universe import Universe
from sim_fixtures import RunningSim
from webapi_broker_fixtures import build_broker

PACED = pytest.mark.sim_options(pacing=True, time_scale=20, penalty_s=900)
_ID = re.compile(r"/(-?\d+)(?=/|$)")


class Mix:
    """What the simulator received, per ``METHOD /path`` (numeric ids kept: -1 matters)."""

    def __init__(self, sim: RunningSim) -> None:
        self.sim = sim
        self.counts: Counter[str] = Counter()
        pacer = sim.sim_state.pacer
        check = pacer.check

        def observed(address: str, method: str, path: str) -> Any:
            self.counts[f"{method} {path}"] += 1
            return check(address, method, path)

        pacer.check = observed  # type: ignore[method-assign]

    def count(self, pattern: str) -> int:
        return sum(n for key, n in self.counts.items() if re.fullmatch(pattern, key))

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self.sim.state()["stats"]
        return result


@pytest.fixture
async def open_broker(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    opened: list[WebApiBroker] = []

    async def make(sim: RunningSim, **kw: Any) -> WebApiBroker:
        broker = build_broker(sim, tmp_path, **kw)
        opened.append(broker)
        return await broker.start(stream=False, keepalive=False)

    yield make
    for broker in opened:
        await broker.close()


def sp500(count: int) -> list[str]:
    stocks = sorted((i for i in Universe.load().all() if i.sp500 and not i.is_etf),
                    key=lambda i: i.symbol)
    return [i.symbol for i in stocks[:count]]


@PACED
async def test_a_500_symbol_sweep_is_one_trsrv_request_and_ten_snapshots(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    mix = Mix(sim)
    broker = await open_broker(sim)
    symbols = sp500(500)
    found = await broker.resolve_many(symbols)
    conids = [int(i.conid) for i in found.values() if isinstance(i, Instrument)]
    assert len(conids) == 500
    rows = await broker.snapshot(conids)
    assert len(rows) == 500
    assert mix.count(r"GET .*/trsrv/stocks") == 1  # was 10 (50 symbols per request)
    # 5 pre-flights + 5 reads of 100 conids: the fewest IBKR's 100-conid cap allows
    assert mix.count(r"GET .*/iserver/marketdata/snapshot") == 10
    # start-up is one tickle (session check) and the /iserver/accounts warm-up; a session
    # that places no order sends no question suppression
    assert mix.count(r"POST .*/iserver/questions/suppress") == 0
    stats = mix.stats()
    assert stats["requests_total"] == 1 + 1 + 1 + 10
    assert stats["rate_limited_total"] == 0


@PACED
async def test_a_second_sweep_of_the_same_symbols_sends_no_trsrv_request(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    mix = Mix(sim)
    broker = await open_broker(sim)
    symbols = sp500(120)
    await broker.resolve_many(symbols)
    await broker.resolve_many(symbols)
    assert mix.count(r"GET .*/trsrv/stocks") == 1


def _passive(inst: Instrument, price: str) -> PlaceOrder:
    return PlaceOrder(ClientOrderId(f"econ-{inst.symbol}-{price}"), inst, Side.BUY,
                      Decimal(1), OrderType.LMT, limit_price=Decimal(price))


@PACED
async def test_orders_suppress_once_and_cancel_all_is_one_delete(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    mix = Mix(sim)
    broker = await open_broker(sim)
    await asyncio.to_thread(sim.set_market, "AAPL", bid="100.00", ask="100.02", last="100.01")
    inst = await broker.resolve("AAPL")
    prices = ["85.00", "86.00", "87.00", "88.00"]  # 12-15 % under: o163 every time
    for price in prices:
        assert isinstance(await broker.place(_passive(inst, price)), Accepted)
    assert isinstance(await broker.cancel_all(), Accepted)

    # the allowed ids are suppressed once, before the session's first order; no replies
    assert mix.count(r"POST .*/iserver/questions/suppress") == 1
    assert mix.count(r"POST .*/iserver/reply/.*") == 0
    assert mix.count(r"POST .*/iserver/account/[^/]+/orders") == len(prices)
    # cancel all: one DELETE of order -1; no live-orders read (its pre-flight needs two
    # calls 5 s apart) and no per-order DELETE
    assert mix.count(r"DELETE .*/iserver/account/[^/]+/order/-1") == 1
    assert mix.count(r"DELETE .*") == 1
    assert mix.count(r"GET .*/iserver/account/orders") == 0
    stats = mix.stats()
    assert stats["rate_limited_total"] == 0
    # tickle + accounts + trsrv + suppress + the orders + one DELETE
    assert stats["requests_total"] == 4 + len(prices) + 1
    book = [o for o in sim.state()["orders"] if str(o["cOID"]).startswith("econ-")]
    assert len(book) == len(prices)
    assert all(o["status"] == "Cancelled" for o in book)
