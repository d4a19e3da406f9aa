"""Pacing against the simulator's real pacing (sliding windows, 429, penalty box).

Time scale 10 keeps these fast while leaving the 50 ms guard plus the 5 % margin as slack
for scheduling jitter between our grant and the simulator's arrival count (both run in
this process); a real network has the same jitter, which is what the guard is for.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalyst_ibkr.adapters.webapi.errors import PenaltyBoxActive, RateLimited
from catalyst_ibkr.adapters.webapi.stack import PacingSettings, WebApiStack
from sim_fixtures import RunningSim

AAPL = 265598
StackFactory = Callable[..., WebApiStack]


def rate_limited(sim: RunningSim) -> int:
    stats: dict[str, Any] = sim.state()["stats"]
    return int(stats["rate_limited_total"])


@pytest.mark.sim_options(pacing=True, time_scale=10.0)
async def test_mixed_burst_gets_no_429(sim: RunningSim, make_stack: StackFactory) -> None:
    client = make_stack(sim).client
    await client.iserver_accounts()

    async def snapshots() -> None:
        for _ in range(25):
            await client.snapshot([AAPL], ["31", "84", "86"])

    async def orders() -> None:
        for _ in range(4):
            await client.live_orders()

    async def trades() -> None:
        for _ in range(3):
            await client.trades()

    async def accounts() -> None:
        for _ in range(3):
            await client.portfolio_accounts()

    async def session() -> None:
        for _ in range(5):
            await client.tickle()
            await client.auth_status()

    await asyncio.gather(snapshots(), snapshots(), orders(), trades(), accounts(), session())
    stats = sim.state()["stats"]
    assert stats["requests_total"] >= 70
    assert stats["rate_limited_total"] == 0


@pytest.mark.sim_options(pacing=True, time_scale=0.05)
async def test_the_same_burst_without_the_governor_is_rate_limited(sim: RunningSim) -> None:
    """Control: the sim really paces, so the test above could fail.

    The sim's clock runs slow here (one window = 20 s of real time) so the burst always
    lands inside one window, however loaded the machine is; at the test above's fast
    clock a slow machine can spread 15 requests across several 50 ms windows.
    """
    async with httpx.AsyncClient(base_url=sim.api_url, verify=sim.ssl_context()) as raw:
        await asyncio.gather(*(raw.get("/iserver/accounts") for _ in range(15)))
    assert rate_limited(sim) > 0


@pytest.mark.sim_options(pacing=True, time_scale=10.0)
async def test_two_governors_on_one_state_file_share_the_window(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    first = make_stack(sim).client
    second = make_stack(sim).client  # same state dir: another "process"
    await first.iserver_accounts()
    for _ in range(3):
        await first.live_orders()
        await second.live_orders()
    assert rate_limited(sim) == 0


@pytest.mark.sim_options(pacing=True, time_scale=5.0)
def test_two_processes_at_once_get_no_429(sim: RunningSim, tmp_path: Path) -> None:
    assert sim.ca_file is not None
    script = textwrap.dedent(
        f"""
        import asyncio
        from pathlib import Path
        from catalyst_ibkr.adapters.webapi.stack import PacingSettings, open_stack
        from catalyst_ibkr.adapters.webapi.tls import TlsSettings

        async def main() -> None:
            stack = open_stack(
                {sim.base_url!r},
                tls=TlsSettings(ca_file=Path({str(sim.ca_file)!r})),
                pacing=PacingSettings(time_scale=5.0, state_dir=Path({str(tmp_path)!r})),
            )
            try:
                await stack.client.live_orders()
                await stack.client.live_orders()
            finally:
                await stack.aclose()

        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    stats = sim.state()["stats"]
    assert stats["requests_total"] >= 4
    assert stats["rate_limited_total"] == 0


@pytest.mark.sim_options(pacing=True, time_scale=20.0)
async def test_a_429_pauses_the_scope_and_says_so(
    sim: RunningSim, make_stack: StackFactory, tmp_path: Path
) -> None:
    # penalty 60 IBKR seconds / time_scale 20 = 3 s of real time
    pacing = PacingSettings(time_scale=20.0, penalty_s=60.0, state_dir=tmp_path)
    stack = make_stack(sim, pacing=pacing)
    client = stack.client
    await client.iserver_accounts()
    sim.fault("http_error", path=r"/iserver/account/orders$", status=429)
    with pytest.raises(RateLimited) as info:
        await client.live_orders()
    assert info.value.scope == "account/orders" and "paused for 3 s" in str(info.value)
    with pytest.raises(PenaltyBoxActive):
        await client.live_orders()
    await client.iserver_accounts()  # other scopes keep working
    until = stack.governor.paused_until("account/orders")
    assert until is not None
    await asyncio.sleep(max(0.0, until - time.time()) + 0.05)
    await client.live_orders()
