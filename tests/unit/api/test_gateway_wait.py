"""`GatewayWait` keeps starting the adapter with growing pauses until it succeeds, and
stops trying when closed (api/gateway_wait.py)."""

from __future__ import annotations

import asyncio

import pytest

from catalyst_ibkr.api import gateway_wait
from catalyst_ibkr.api.gateway_wait import GatewayWait
from catalyst_ibkr.ports.broker import BrokerUnavailable


async def test_retries_with_backoff_until_the_start_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(gateway_wait.asyncio, "sleep", sleep)
    attempts = 0

    async def start() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 4:
            raise BrokerUnavailable(f"down ({attempts})")

    wait = GatewayWait(start, "tws://127.0.0.1:4002", BrokerUnavailable("down (0)"),
                       first_s=1.0, max_s=3.0)
    wait.begin()
    await asyncio.wait_for(wait.started.wait(), 5)
    assert attempts == 4
    assert pauses == [1.0, 2.0, 3.0, 3.0]  # doubled, capped
    assert wait.detail == "down (3)"  # the last reason, for the log
    await wait.aclose()


async def test_close_stops_the_retries() -> None:
    attempts = 0

    async def start() -> None:
        nonlocal attempts
        attempts += 1
        raise BrokerUnavailable("down")

    wait = GatewayWait(start, "https://localhost:5000", BrokerUnavailable("down"),
                       first_s=0.01, max_s=0.01)
    wait.begin()
    await asyncio.sleep(0.1)
    await wait.aclose()
    seen = attempts
    await asyncio.sleep(0.05)
    assert seen >= 2 and attempts == seen and not wait.started.is_set()
