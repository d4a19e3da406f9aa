"""Fixtures for the fake-TWS integration tests: a simulator with its TWS view on a free
loopback port, and a guard that fails the test on any client decode error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from decoder_guard import DecoderErrors, decoder_guard

from catalyst_ibkr.adapters.tws import TwsBroker, make_tws_broker
from sim_fixtures import RunningSim


@pytest.fixture
def tws_sim(request: pytest.FixtureRequest, sim_factory: Callable[..., RunningSim]) -> RunningSim:
    marker = request.node.get_closest_marker("sim_options")
    overrides: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    overrides.setdefault("tws_port", 0)
    return sim_factory(**overrides)


@pytest.fixture(autouse=True)
def guard() -> Iterator[DecoderErrors]:
    with decoder_guard() as handler:
        yield handler


@pytest.fixture
async def make_broker(tws_sim: RunningSim) -> AsyncIterator[Callable[..., Any]]:
    """``await make_broker(client_id=..., **settings)`` -> a started TwsBroker (closed after)."""
    made: list[TwsBroker] = []

    async def make(client_id: int = 1, **settings: Any) -> TwsBroker:
        settings.setdefault("request_timeout_s", 5.0)
        settings.setdefault("reconnect_initial_s", 0.05)
        settings.setdefault("reconnect_max_s", 0.5)
        broker = make_tws_broker(f"tws://127.0.0.1:{tws_sim.tws_port}", client_id, **settings)
        made.append(broker)
        return await broker.start()

    yield make
    for broker in made:
        await broker.close()
