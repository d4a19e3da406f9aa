"""The Broker contract, run against the Web API adapter and the simulator over real loopback
HTTPS (TLS verified against the simulator's own certificate) and its real websocket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from broker_contract import BrokerContract, BrokerHarness

from sim_fixtures import RunningSim
from webapi_broker_fixtures import SimWebVenue, build_broker


class TestWebApiBrokerContract(BrokerContract):
    @pytest.fixture
    async def harness(  # type: ignore[override]
        self, sim_factory: Callable[..., RunningSim], tmp_path: Path
    ) -> AsyncIterator[BrokerHarness]:
        sim = sim_factory()
        broker = build_broker(sim, tmp_path)
        await broker.start()
        try:
            yield BrokerHarness(broker=broker, venue=SimWebVenue(sim), symbol="AAPL",
                                timeout_s=8.0)
        finally:
            await broker.close()
