"""The Broker contract, run against the TWS adapter and the simulator's fake TWS over real
loopback sockets (both the adapter's ib_async client and the fake speak the wire protocol).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest
from broker_contract import BrokerContract, BrokerHarness

from catalyst_ibkr.adapters.tws import make_tws_broker
from sim_fixtures import RunningSim

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration" / "tws"))
from decoder_guard import decoder_guard


class SimTwsVenue:
    """VenueControl over the simulator's control API (blocking HTTP moved off the loop)."""

    def __init__(self, sim: RunningSim) -> None:
        self.sim = sim

    async def set_market(self, symbol: str, *, bid: Decimal, ask: Decimal,
                         last: Decimal | None = None) -> None:
        prices = {"bid": str(bid), "ask": str(ask)}
        if last is not None:
            prices["last"] = str(last)
        await asyncio.to_thread(self.sim.set_market, symbol, **prices)

    async def lose_next_response(self, command: Literal["place", "cancel"]) -> None:
        await asyncio.to_thread(self.sim.fault, "tws_disconnect", on=command)


class TestTwsBrokerContract(BrokerContract):
    @pytest.fixture
    async def harness(  # type: ignore[override]
        self, sim_factory: Callable[..., RunningSim]
    ) -> AsyncIterator[BrokerHarness]:
        sim = sim_factory(tws_port=0, tls=False)
        with decoder_guard():
            broker = make_tws_broker(f"tws://127.0.0.1:{sim.tws_port}", client_id=7,
                                     request_timeout_s=5.0, reconnect_initial_s=0.05,
                                     reconnect_max_s=0.5)
            await broker.start()
            try:
                yield BrokerHarness(broker=broker, venue=SimTwsVenue(sim), symbol="AAPL",
                                    timeout_s=5.0)
            finally:
                await broker.close()
