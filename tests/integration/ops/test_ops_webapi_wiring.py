"""The operations runtime on the Web API broker (over HTTPS to the simulator): the watchdog
drives the adapter's own session keeper, the interlock reads ``/iserver/accounts``, the
pacing headroom is the adapter's governor, and a gateway restart gives one alert and one
recovery at the webhook; the websocket heartbeat age comes from
the adapter's order stream. ``serve`` cannot open this broker yet (no ``open_webapi_broker``),
so the test composes it the way ``api.runtime.service_stack`` does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalyst_ibkr.adapters.factory import make_broker
from catalyst_ibkr.config.loader import load_settings
from catalyst_ibkr.service.alerts import Alerter
from catalyst_ibkr.service.views import HealthView, RiskView
from catalyst_ibkr.service.watchdog.runtime import guard_broker, ops_stack
from ops_receivers import LoopbackServer, webhook_receiver
from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(60)


class QuietService:
    async def risk(self) -> RiskView:
        return RiskView("ACTIVE", None, None, False, (), {}, 0, 0, Decimal(0), Decimal(0),
                        Decimal(0))

    async def health(self, *, ready: bool) -> HealthView:
        return HealthView(True, True, True, True, True, "", "ACTIVE", (), None)


@pytest.fixture
async def receiver() -> AsyncIterator[LoopbackServer]:
    server = await webhook_receiver().start()
    yield server
    await server.stop()


@pytest.mark.sim_options(time_scale=50, relogin_s=150)  # 3 s of real time
async def test_ops_runtime_on_the_webapi_broker(
    sim: RunningSim, receiver: LoopbackServer, tmp_path: Path
) -> None:
    env = {
        "CATALYST_GATEWAY_CA_FILE": str(sim.ca_file),
        "CATALYST_PACING_STATE_DIR": str(tmp_path),
        "CATALYST_PACING_TIME_SCALE": "50",  # the watchdog's durations shrink with it
        "CATALYST_ALERTS_WEBHOOK_URL": receiver.url + "/hook",
        # no daily-reset window: inside it (23:55-01:15 New York by default) a lost session
        # is a planned hold with no alert, and this test must not depend on the hour it runs
        "CATALYST_WATCHDOG_DAILY_RESET_WINDOW_S": "0",
    }
    settings = load_settings(None, env).settings
    broker: Any = make_broker(sim.base_url, settings)
    await broker.start()
    alerter = Alerter(settings.alerts)
    try:
        guarded = guard_broker(settings, broker, alerter)
        async with ops_stack(settings, broker=guarded, service=QuietService(),
                             alerter=alerter) as ops:
            assert ops.watchdog is not None
            assert ops.watchdog.session is broker.stack.keeper
            snapshot = await ops.snapshot()
            assert snapshot["interlock"] == {"tripped": False, "problem": None}
            assert snapshot["account"] == "DU1234567"
            assert {"global", "account/orders"} <= {row["scope"] for row in snapshot["pacing"]}
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while (await ops.snapshot())["watchdog"]["ws_heartbeat_age_s"] is None:
                assert loop.time() < deadline, "the order stream's frames are not seen"
                await asyncio.sleep(0.1)
            sim.fault("restart")  # IBeam logs in again after 3 s (> the 1.2 s grace)
            deadline = loop.time() + 30
            # at the webhook, not only in the history: the history is written before the
            # POST, and leaving ops_stack would cut a POST still on its way
            while not any(c.body["kind"] == "recovery" for c in receiver.calls):
                assert loop.time() < deadline, alerter.history
                await asyncio.sleep(0.1)
            health = (await ops.snapshot())["watchdog"]
            assert health["phase"] == "healthy" and health["last_tickle_at"] is not None
    finally:
        await broker.close()
    kinds = [(c.body["kind"], c.body["key"]) for c in receiver.calls]
    assert kinds == [("alert", "session"), ("recovery", "session")]
