"""TWS adapter reads against the fake over loopback: share-class symbols, quotes that leave
out what has no data, and account numbers that are the engine's own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from catalyst_ibkr.adapters.tws import make_tws_broker
from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.ports.broker import BrokerUnavailable
from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(60)


async def test_share_class_symbols_resolve_either_way(make_broker: Callable[..., Any]) -> None:
    broker = await make_broker()
    spaced = await broker.resolve("BRK B")
    dotted = await broker.resolve("BRK.B")
    assert spaced.conid == dotted.conid and spaced.symbol == "BRK B"


async def test_quotes_leave_out_unknown_conids(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker(request_timeout_s=3.0)
    await asyncio.to_thread(tws_sim.set_market, "AAPL", bid="100.00", ask="100.02",
                            last="100.01")
    quotes = await broker.quotes([ConId(265598), ConId(999999999)])
    assert [q.conid for q in quotes] == [265598]
    assert (quotes[0].bid, quotes[0].ask, quotes[0].last) == (
        Decimal("100.00"), Decimal("100.02"), Decimal("100.01"))


async def test_account_matches_the_engine(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    summary = await broker.account()
    engine = tws_sim.sim_state.engine.account("DU1234567")
    assert summary.net_liquidation == engine.net_liquidation
    assert summary.cash == engine.cash and summary.account == "DU1234567"


async def test_nothing_listening_is_a_clear_error() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the connect: nothing listens
    broker = make_tws_broker(f"tws://127.0.0.1:{port}", 1, connect_timeout_s=2.0,
                             request_timeout_s=0.3)
    with pytest.raises(BrokerUnavailable, match="cannot connect to TWS/IB Gateway"):
        await broker.start()
    with pytest.raises(BrokerUnavailable):
        await broker.order(ClientOrderId("never-sent"))  # reads never guess while down
    await broker.close()
