"""The Broker contract, run against the shipped in-memory fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from broker_contract import BrokerContract, BrokerHarness

from catalyst_ibkr.adapters.memory import MemoryBroker, MemoryVenue


class TestMemoryBrokerContract(BrokerContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[BrokerHarness]:  # type: ignore[override]
        broker = MemoryBroker()
        yield BrokerHarness(broker=broker, venue=MemoryVenue(broker), symbol="AAPL",
                            timeout_s=2.0)
        await broker.close()
