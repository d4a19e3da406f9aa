"""``orders``, ``positions`` and ``account``: what the account holds and has working.

``orders --coid ID`` is the lookup that follows an exit code 3: it finds the order by our
client order id in any state (live list, order status, today's trades) and prints ``[]``
only when IBKR definitively has no such order today; when IBKR cannot tell yet (its blank
pre-flight list) the command exits 4 rather than claim absence.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from catalyst_ibkr.adapters.webapi.broker import WebApiBroker
from catalyst_ibkr.cli.broker_run import broker_command
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.main import app
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.ports.broker import Broker, OrderReport

__all__ = ["account", "orders", "positions"]

_ORDER_COLUMNS = ["order_id", "cOID", "symbol", "side", "quantity", "filled_quantity", "status"]


def _order_row(report: OrderReport) -> dict[str, Any]:
    return {
        "order_id": report.broker_order_id,
        "cOID": report.client_order_id,
        "symbol": report.symbol,
        "side": report.side.value,
        "quantity": report.quantity,
        "filled_quantity": report.filled_quantity,
        "status": report.status.value,
    }


@app.command("orders")
def orders(
    ctx: typer.Context,
    coid: Annotated[str | None, typer.Option(
        "--coid", help="Find one order by its client order id, in any state.")] = None,
    working: Annotated[bool, typer.Option(
        "--working", help="Only orders still working (default: all of today's).")] = False,
) -> None:
    """Today's orders (or one, by --coid)."""
    cmd = broker_command(ctx)
    wanted: ClientOrderId | None = None
    if coid is not None:
        try:
            wanted = ClientOrderId(coid)
        except (ValueError, InvalidInput) as exc:
            cmd.fail(ExitCode.USAGE_OR_CONFIG, str(exc))

    async def act(broker: Broker) -> list[OrderReport]:
        if wanted is not None:
            found = await broker.order(wanted)
            return [] if found is None else [found]
        if working or not isinstance(broker, WebApiBroker):
            return list(await broker.open_orders())
        return await broker.orders_today()

    rows = [_order_row(r) for r in cmd.run(act)]
    cmd.out.result(rows, columns=_ORDER_COLUMNS,
                   rows=[[r[c] for c in _ORDER_COLUMNS] for r in rows])


@app.command("positions")
def positions(ctx: typer.Context) -> None:
    """Open positions with market value and unrealized P&L."""
    cmd = broker_command(ctx)

    async def act(broker: Broker) -> list[dict[str, Any]]:
        if isinstance(broker, WebApiBroker):
            return [
                {"symbol": line.position.symbol, "conid": int(line.position.conid),
                 "quantity": line.position.quantity, "avg_cost": line.position.avg_cost,
                 "market_value": line.market_value, "unrealized_pnl": line.unrealized_pnl}
                for line in await broker.portfolio()
            ]
        return [
            {"symbol": p.symbol, "conid": int(p.conid), "quantity": p.quantity,
             "avg_cost": p.avg_cost, "market_value": None, "unrealized_pnl": None}
            for p in await broker.positions()
        ]

    rows = cmd.run(act)
    columns = ["symbol", "conid", "quantity", "avg_cost", "market_value", "unrealized_pnl"]
    cmd.out.result(rows, columns=columns, rows=[[r[c] for c in columns] for r in rows])


@app.command("account")
def account(ctx: typer.Context) -> None:
    """Net liquidation, buying power, cash and margin of the account."""
    cmd = broker_command(ctx)
    summary = cmd.run(lambda broker: broker.account())
    cmd.out.result(summary, columns=["", "value"],
                   rows=[[k, getattr(summary, k)] for k in summary.__dataclass_fields__])
