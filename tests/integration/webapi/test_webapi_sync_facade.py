"""The blocking facade for scripts, against the simulator over real sockets (no event loop in
the test: that is the point of the facade)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from catalyst_ibkr.adapters.webapi.sync import open_sync_broker
from catalyst_ibkr.config.loader import read_settings
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.ports.broker import Accepted, CancelOrder, PlaceOrder
from sim_fixtures import RunningSim


def test_a_script_places_finds_and_cancels_an_order(sim: RunningSim, tmp_path: Path) -> None:
    env = {"CATALYST_PACING_TIME_SCALE": "50", "CATALYST_PACING_STATE_DIR": str(tmp_path),
           "CATALYST_GATEWAY_CA_FILE": str(sim.ca_file)}
    settings = read_settings(None, env, cwd=tmp_path).settings
    sim.set_market("AAPL", bid="100.00", ask="100.02", last="100.01")
    with open_sync_broker(sim.base_url, settings) as ib:
        assert ib.health().ok
        aapl = ib.resolve("AAPL")
        assert ib.quotes([aapl.conid])[0].bid is not None
        coid = ClientOrderId("sync-1")
        outcome = ib.place(PlaceOrder(coid, aapl, Side.BUY, Decimal(1), OrderType.LMT,
                                      limit_price=Decimal("98.00")))
        assert isinstance(outcome, Accepted)
        report = ib.order(coid)
        assert report is not None and report.status.is_working
        assert isinstance(ib.cancel(CancelOrder(coid)), Accepted)
