"""The OMS over the real Web API adapter and the simulator (real loopback HTTPS): the submit
faults of reliability (b)1-2 end with exactly one order per cOID at the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from catalyst_ibkr.config.loader import load_settings
from catalyst_ibkr.core.clock import SystemClock
from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.bootstrap import build_service
from catalyst_ibkr.service.facade import ExecutionService
from oms_harness import fingerprint
from sim_fixtures import RunningSim
from webapi_broker_fixtures import ACCOUNT, build_broker

ORDERS_PATH = rf"/iserver/account/{ACCOUNT}/orders$"


@pytest.fixture
async def stack(sim: RunningSim, tmp_path: Path) -> AsyncIterator[Any]:
    broker = build_broker(sim, tmp_path)
    await broker.start(stream=True)
    await asyncio.to_thread(sim.set_market, "AAPL", bid="100.00", ask="100.02", last="100.01")
    settings = load_settings("[oms]\nin_doubt_poll_s = 0.05\n", {}).settings
    svc = build_service(settings, broker=broker, db_url=f"sqlite:///{tmp_path / 'j.db'}",
                        clock=SystemClock(), run_workers=False)
    await svc.start()
    yield svc, sim
    await svc.stop()
    await broker.close()


async def _submit(svc: ExecutionService, sid: str) -> None:
    body = {"id": sid, "symbol": "AAPL", "side": "BUY", "quantity": "1", "order_type": "LMT",
            "limit_price": "99.00"}
    signal = Signal.from_mapping(body, SystemClock().now())
    await svc.submit_signal(signal, body_fingerprint=fingerprint(body))


async def _until(svc: ExecutionService, done: Callable[[], Any], timeout_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        await svc.oms.run_once()
        await asyncio.sleep(0.05)
        if await done():
            return
    raise AssertionError("condition not reached in time")


def _at_sim(sim: RunningSim, coid: str) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if o["cOID"] == coid]


@pytest.mark.parametrize("fault", [
    {"kind": "drop_after_accept", "path": ORDERS_PATH},  # landed, answer lost
    {"kind": "http_error", "path": ORDERS_PATH, "status": 500},  # never landed
])
async def test_unknown_submit_outcomes_end_with_one_order_per_coid(
    stack: Any, fault: dict[str, Any]
) -> None:
    svc, sim = stack

    async def started() -> bool:
        return (await svc.health(ready=False)).startup_complete

    await _until(svc, started)
    await asyncio.to_thread(lambda: sim.fault(**fault))
    await _submit(svc, "wa-1")

    async def submitted() -> bool:
        view = await svc.get_signal("wa-1")
        return view is not None and view.status == "SUBMITTED"

    await _until(svc, submitted)
    view = await svc.get_signal("wa-1")
    assert view is not None
    orders = await asyncio.to_thread(_at_sim, sim, view.client_order_id)
    assert len(orders) == 1
    # it really went through the unknown-outcome path
    unknown = svc.metrics.get_sample_value("catalyst_order_sends_total", {"outcome": "unknown"})
    assert unknown == 1.0
