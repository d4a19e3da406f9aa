"""Build a started ``WebApiBroker`` against a running simulator (real loopback sockets).

Shared by the Broker contract harness and the Web API integration tests. The client's
``time_scale`` follows the sim's when the sim paces (so both count the same windows);
otherwise it is 50 so the client's own first-window waits stay short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from catalyst_ibkr.adapters.webapi.broker import BrokerSettings, WebApiBroker
from catalyst_ibkr.adapters.webapi.orders import QuestionRecord
from catalyst_ibkr.adapters.webapi.snapshots import SnapshotSettings
from catalyst_ibkr.adapters.webapi.stack import PacingSettings, open_stack
from catalyst_ibkr.adapters.webapi.stream import StreamSettings
from catalyst_ibkr.adapters.webapi.tls import TlsSettings
from catalyst_ibkr.config.sections import DEFAULT_CONFIRMED_QUESTIONS
from sim_fixtures import RunningSim

__all__ = ["ACCOUNT", "SimWebVenue", "build_broker"]

ACCOUNT = "DU1234567"


def build_broker(
    sim: RunningSim,
    state_dir: Path,
    *,
    time_scale: float | None = None,
    confirm: tuple[str, ...] = DEFAULT_CONFIRMED_QUESTIONS,
    on_question: Callable[[QuestionRecord], None] | None = None,
    **settings: Any,
) -> WebApiBroker:
    if time_scale is None:
        time_scale = sim.options.time_scale if sim.options.pacing else 50.0
    holder: list[WebApiBroker] = []

    async def on_new_session() -> None:
        if holder:
            await holder[0].on_new_session()

    stack = open_stack(
        sim.base_url,
        tls=TlsSettings(ca_file=sim.ca_file),
        pacing=PacingSettings(time_scale=time_scale, state_dir=state_dir),
        on_new_session=on_new_session,
    )
    settings.setdefault("snapshot", SnapshotSettings(deadline_s=5.0, poll_interval_s=0.05))
    # the websocket's heartbeats come at the SIM's pace, so silence is judged on its scale
    settings.setdefault(
        "stream", StreamSettings(time_scale=sim.options.time_scale, connect_timeout_s=5.0)
    )
    broker = WebApiBroker(
        stack,
        BrokerSettings(confirm_questions=frozenset(confirm), **settings),
        on_question=on_question,
    )
    holder.append(broker)
    return broker


class SimWebVenue:
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
        path = (rf"/iserver/account/{ACCOUNT}/orders$" if command == "place"
                else rf"/iserver/account/{ACCOUNT}/order/\d+$")
        await asyncio.to_thread(self.sim.fault, "drop_after_accept", path=path)
