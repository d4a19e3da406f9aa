"""``buy``, ``sell``, ``modify`` and ``cancel``: the commands that change orders.

Order of events for ``buy``/``sell`` (each step can stop the command, nothing after it runs):
parse the input (exit 2) -> resolve the symbol -> the risk defaults of ``[risk]`` (exit 1,
nothing sent) -> confirmation on a terminal, or ``--yes`` -> ONE placement carrying a cOID,
IBKR's questions answered by message id (a declined one: exit 1 with IBKR's words) -> the
outcome: accepted (0), rejected (1), or unknown (3: the cOID and the lookup command are
printed; the order is never resent).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from catalyst_ibkr.adapters.webapi.broker import WebApiBroker
from catalyst_ibkr.cli.broker_run import BrokerCommand, broker_command
from catalyst_ibkr.cli.confirm import YesOption, confirm_or_exit
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.main import app
from catalyst_ibkr.cli.risk_gate import evaluate_order
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import BrokerOrderId, ClientOrderId
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.core.status_maps import map_client_portal_status
from catalyst_ibkr.ports.broker import (
    Accepted,
    Broker,
    CancelOrder,
    CommandOutcome,
    ModifyOrder,
    OrderReport,
    PlaceOrder,
    Rejected,
)

__all__ = ["buy", "cancel", "modify", "sell"]

LimitOption = Annotated[str | None, typer.Option("--limit", help="Limit price (LMT).")]
StopOption = Annotated[str | None, typer.Option("--stop", help="Stop trigger price (STP).")]
TifOption = Annotated[str, typer.Option("--tif", help="DAY, GTC or IOC.")]
RthOption = Annotated[bool, typer.Option("--outside-rth", help="Allow outside regular hours.")]
CoidOption = Annotated[
    str | None, typer.Option("--coid", help="Your client order id (default: generated).")
]


def _decimal(cmd: BrokerCommand, name: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        cmd.fail(ExitCode.USAGE_OR_CONFIG, f"{name} {text!r} is not a number. Nothing was sent.")
    if not value.is_finite() or value <= 0:
        cmd.fail(ExitCode.USAGE_OR_CONFIG, f"{name} must be a positive number, got {text}. "
                 "Nothing was sent.")
    return value


def _new_coid() -> ClientOrderId:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return ClientOrderId(f"cli-{stamp}-{secrets.token_hex(4)}")


def _questions(cmd: BrokerCommand) -> list[dict[str, Any]]:
    return [{"id": ",".join(q.message_ids), "message": q.message,
             "answer": "yes" if q.confirmed else "no"} for q in cmd.questions]


def _status_word(outcome: Accepted) -> str:
    if not outcome.detail:
        return OrderStatus.SUBMITTED.value
    try:
        return map_client_portal_status(outcome.detail).value
    except ValueError:
        return OrderStatus.SUBMITTED.value


def _finish(cmd: BrokerCommand, outcome: CommandOutcome, coid: ClientOrderId | None,
            order_id: str | None = None) -> None:
    if isinstance(outcome, Rejected):
        cmd.fail(ExitCode.REJECTED, f"rejected: {outcome.reason}", cOID=coid,
                 ibkr_code=outcome.code, questions=_questions(cmd))
    document = {
        "order_id": outcome.broker_order_id or order_id,
        "cOID": coid,
        "status": _status_word(outcome),
        "questions": _questions(cmd),
    }
    for q in cmd.questions:
        cmd.out.info(f"IBKR asked {','.join(q.message_ids)}: {q.message.strip()} -> "
                     f"{'yes' if q.confirmed else 'no'}")
    cmd.out.result(document, columns=["order_id", "cOID", "status"],
                   rows=[[document["order_id"], coid, document["status"]]])


def _order(side: Side, ctx: typer.Context, symbol: str, quantity: str, limit: str | None,
           stop: str | None, tif: str, outside_rth: bool, coid: str | None, yes: bool) -> None:
    cmd = broker_command(ctx)
    qty = _decimal(cmd, "QTY", quantity)
    limit_price, stop_price = _decimal(cmd, "--limit", limit), _decimal(cmd, "--stop", stop)
    try:
        tif_value = TimeInForce(tif.upper())
        client_id = ClientOrderId(coid) if coid is not None else _new_coid()
    except (ValueError, InvalidInput) as exc:
        cmd.fail(ExitCode.USAGE_OR_CONFIG, f"{exc}. Nothing was sent.")
    if limit_price is not None and stop_price is not None:
        order_type = OrderType.STP_LMT
    elif limit_price is not None:
        order_type = OrderType.LMT
    elif stop_price is not None:
        order_type = OrderType.STP
    else:
        order_type = OrderType.MKT
    limits = cmd.loaded.settings.risk.limits

    async def act(broker: Broker) -> CommandOutcome:
        instrument = await broker.resolve(symbol)
        assert qty is not None
        request = PlaceOrder(client_id, instrument, side, qty, order_type, tif_value,
                             limit_price=limit_price, stop_price=stop_price,
                             outside_rth=outside_rth)
        decision = await evaluate_order(broker, request, limits)
        if decision.denial is not None:
            cmd.fail(ExitCode.REJECTED, f"denied by risk ({decision.denial.reason_code.value}): "
                     f"{decision.denial.message}. Nothing was sent.",
                     reason_code=decision.denial.reason_code.value, cOID=client_id)
        price = {OrderType.MKT: "at market", OrderType.LMT: f"limit {limit_price}",
                 OrderType.STP: f"stop {stop_price}",
                 OrderType.STP_LMT: f"stop {stop_price} limit {limit_price}"}[order_type]
        account = await broker.account_id() if isinstance(broker, WebApiBroker) else "the account"
        confirm_or_exit(
            f"{side.value.capitalize()} {qty} {instrument.symbol} {price} ({tif_value.value}) "
            f"on {account}, cOID {client_id}?", yes=yes, out=cmd.out)
        cmd.pending_coid = str(client_id)
        return await broker.place(request)

    _finish(cmd, cmd.run(act), client_id)


@app.command("buy")
def buy(ctx: typer.Context, symbol: Annotated[str, typer.Argument(help="Ticker.")],
        quantity: Annotated[str, typer.Argument(metavar="QTY", help="Shares.")],
        limit: LimitOption = None, stop: StopOption = None, tif: TifOption = "DAY",
        outside_rth: RthOption = False, coid: CoidOption = None, yes: YesOption = False) -> None:
    """Buy QTY of SYMBOL (market, or --limit / --stop), after the risk checks."""
    _order(Side.BUY, ctx, symbol, quantity, limit, stop, tif, outside_rth, coid, yes)


@app.command("sell")
def sell(ctx: typer.Context, symbol: Annotated[str, typer.Argument(help="Ticker.")],
         quantity: Annotated[str, typer.Argument(metavar="QTY", help="Shares.")],
         limit: LimitOption = None, stop: StopOption = None, tif: TifOption = "DAY",
         outside_rth: RthOption = False, coid: CoidOption = None, yes: YesOption = False) -> None:
    """Sell QTY of SYMBOL (market, or --limit / --stop), after the risk checks."""
    _order(Side.SELL, ctx, symbol, quantity, limit, stop, tif, outside_rth, coid, yes)


async def _find(broker: Broker, order_id: str) -> OrderReport | None:
    reports = (await broker.orders_today() if isinstance(broker, WebApiBroker)
               else await broker.open_orders())
    return next((r for r in reports if str(r.broker_order_id) == order_id), None)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    order_id: Annotated[str | None, typer.Argument(help="IBKR order id (see `orders`).")] = None,
    all_orders: Annotated[bool, typer.Option("--all", help="Cancel every working order.")] = False,
    yes: YesOption = False,
) -> None:
    """Request a cancel of one order, or of every working order with --all."""
    cmd = broker_command(ctx)
    if (order_id is None) == (not all_orders):
        cmd.fail(ExitCode.USAGE_OR_CONFIG, "give either ORDER_ID or --all (not both)")
    if all_orders:
        confirm_or_exit("Cancel EVERY working order of the account?", yes=yes, out=cmd.out)
        cmd.run(lambda broker: broker.cancel_all())
        cmd.out.result({"cancel_all": "requested"}, columns=["cancel_all"], rows=[["requested"]])
        return
    assert order_id is not None
    if not order_id.isdigit():
        cmd.fail(ExitCode.USAGE_OR_CONFIG, f"ORDER_ID must be IBKR's numeric order id, got "
                 f"{order_id!r} (see `catalyst-ibkr orders`)")
    confirm_or_exit(f"Cancel order {order_id}?", yes=yes, out=cmd.out)

    async def act(broker: Broker) -> CommandOutcome:
        report = await _find(broker, order_id)
        coid = report.client_order_id if report is not None else None
        return await broker.cancel(CancelOrder(coid, BrokerOrderId(order_id)))

    outcome = cmd.run(act)
    if isinstance(outcome, Rejected):
        cmd.fail(ExitCode.REJECTED, f"cancel rejected: {outcome.reason}")
    cmd.out.result({"order_id": order_id, "status": "cancel requested"},
                   columns=["order_id", "status"], rows=[[order_id, "cancel requested"]])


@app.command("modify")
def modify(
    ctx: typer.Context,
    order_id: Annotated[str, typer.Argument(help="IBKR order id (see `orders`).")],
    limit: LimitOption = None,
    quantity: Annotated[str | None, typer.Option("--quantity", help="New total quantity.")] = None,
    yes: YesOption = False,
) -> None:
    """Change a working order's limit price and/or quantity."""
    cmd = broker_command(ctx)
    new_limit, new_qty = _decimal(cmd, "--limit", limit), _decimal(cmd, "--quantity", quantity)
    if new_limit is None and new_qty is None:
        cmd.fail(ExitCode.USAGE_OR_CONFIG, "give --limit and/or --quantity")

    async def act(broker: Broker) -> tuple[CommandOutcome, ClientOrderId | None]:
        report = await _find(broker, order_id)
        if report is None:
            cmd.fail(ExitCode.REJECTED, f"no order {order_id} today (see `catalyst-ibkr orders`)")
        if report.client_order_id is None:
            cmd.fail(ExitCode.REJECTED, f"order {order_id} has no cOID (placed elsewhere); "
                     "modify it where it was placed")
        shown_limit = new_limit or report.limit_price
        shown_qty = new_qty or report.quantity
        confirm_or_exit(f"Modify order {order_id} ({report.symbol}): limit {shown_limit}, "
                        f"quantity {shown_qty}?", yes=yes, out=cmd.out)
        change = ModifyOrder(report.client_order_id, quantity=new_qty, limit_price=new_limit)
        return await broker.modify(change), report.client_order_id

    outcome, coid = cmd.run(act)
    _finish(cmd, outcome, coid, order_id)
