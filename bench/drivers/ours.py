"""Our Web API client: the ``WebApiBroker`` adapter, built by ``make_broker`` from a config.

Exactly what ``catalyst-ibkr`` and the service run: the config file names the gateway, the
simulator's certificate as CA, the pacing time scale (equal to the simulator's, as the
test-only ``[pacing] time_scale`` setting is meant to be used) and the questions answered
yes. Variants (spec keys): ``warm_pacing`` starts from the pacing log of a service that has
been up (see ``_warm_pacing_log``); ``suppress`` false makes the adapter answer every
question instead of suppressing the confirmed ids once per session.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from catalyst_ibkr.adapters.factory import make_webapi_broker
from catalyst_ibkr.adapters.webapi.broker import WebApiBroker
from catalyst_ibkr.adapters.webapi.pacing_store import PacingState, default_state_path
from catalyst_ibkr.adapters.webapi.tls import gateway_address
from catalyst_ibkr.config.loader import load_settings
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.ports.broker import Accepted, BrokerError, PlaceOrder

from .common import QUOTE_FIELDS, Outcome, finish, load_spec, start

CONFIRM = ("o163", "o10153")


def _warm_pacing_log(spec: dict[str, Any], state_dir: Path) -> None:
    """A pacing log as a service that has been up (and idle) for an hour leaves it.

    A brand-new log assumes every window was full when it was created (nobody knows what
    was sent just before), so a cold client's first request waits one window; a running
    service knows better. The "warm" row measures that steady state.
    """
    _, host, port = gateway_address(spec["base_url"])
    path = default_state_path(host, port, base=state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(PacingState(origin=time.time() - 3600).to_json()), "utf-8")


def _broker(spec: dict[str, Any], state_dir: Path) -> WebApiBroker:
    if spec.get("warm_pacing"):
        _warm_pacing_log(spec, state_dir)
    config = "\n".join([
        "[gateway]",
        f"url = {json.dumps(spec['base_url'])}",
        f"account = {json.dumps(spec['account'])}",
        f"ca_file = {json.dumps(spec['ca_file'])}",
        "[pacing]",
        f"time_scale = {float(spec['time_scale'])}",
        f"state_dir = {json.dumps(str(state_dir))}",
        "[questions]",
        f"confirm = {json.dumps(list(CONFIRM))}",
        f"suppress = {'true' if spec.get('suppress', True) else 'false'}",
    ])
    settings = load_settings(config, {}).settings
    return make_webapi_broker(spec["base_url"], settings)


async def quotes(broker: WebApiBroker, spec: dict[str, Any]) -> Outcome:
    symbols: list[str] = spec["symbols"]
    found = await broker.resolve_many(symbols)
    conids = [int(i.conid) for i in found.values() if isinstance(i, Instrument)]
    rows = await broker.snapshot(conids, QUOTE_FIELDS)
    quoted = sum(1 for q in rows.values() if not q.missing(QUOTE_FIELDS))
    return Outcome(quoted == len(symbols), {"quoted": quoted, "wanted": len(symbols)})


async def orders(broker: WebApiBroker, spec: dict[str, Any]) -> Outcome:
    answered = 0
    failures: list[str] = []
    for item in spec["orders"]:
        request = PlaceOrder(
            client_order_id=ClientOrderId(f"bench-{uuid.uuid4().hex[:16]}"),
            instrument=Instrument(conid=ConId(int(item["conid"])), symbol=str(item["symbol"])),
            side=Side.BUY, quantity=Decimal(1), order_type=OrderType.LMT,
            tif=TimeInForce.DAY, limit_price=Decimal(str(item["price"])),
        )
        outcome = await broker.place(request)
        if isinstance(outcome, Accepted) and outcome.broker_order_id is not None:
            answered += 1
        elif len(failures) < 3:
            failures.append(repr(outcome))
    await broker.cancel_all()
    detail: dict[str, Any] = {"answered": answered}
    if failures:
        detail["failures"] = failures
    return Outcome(answered == len(spec["orders"]), detail)


async def dashboard(broker: WebApiBroker, spec: dict[str, Any]) -> Outcome:
    loop = asyncio.get_running_loop()
    ends = loop.time() + float(spec["duration_s"])
    since = datetime.now(UTC) - timedelta(days=1)
    refreshes = 0
    positions = 0

    async def refresh() -> int:
        _, lines, _, _ = await asyncio.gather(
            broker.account(), broker.portfolio(), broker.orders_today(),
            broker.executions(since),
        )
        return len(lines)

    while (remaining := ends - loop.time()) > 0:
        try:
            positions = await asyncio.wait_for(refresh(), remaining)
        except TimeoutError:
            break
        refreshes += 1
    return Outcome(refreshes > 0, {"refreshes": refreshes, "positions": positions})


WORKLOADS = {"quotes": quotes, "orders": orders, "dashboard": dashboard}


async def main() -> None:
    spec = load_spec()
    with tempfile.TemporaryDirectory(prefix="bench-pacing-") as state_dir:
        broker = _broker(spec, Path(state_dir))
        timer = start()
        try:
            await broker.start(keepalive=False, stream=False)
            outcome = await WORKLOADS[spec["workload"]](broker, spec)
        except (BrokerError, Exception) as exc:  # reported; the parent prints the table
            outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
        finish(timer, outcome)
        await broker.close()


if __name__ == "__main__":
    asyncio.run(main())
