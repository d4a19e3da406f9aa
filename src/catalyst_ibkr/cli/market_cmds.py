"""``status``, ``accounts``, ``quote SYMBOL...`` and ``history SYMBOL``: reading the gateway.

``quote`` resolves every symbol first (one request per 50 symbols, cached per gateway) and
refuses the whole command if any is unknown or ambiguous, so a typo is never silently left
out of a script's output. Snapshots are polled until last, bid and ask are all present; a
progress bar on stderr appears when the work will take more than about a second (pacing:
10 requests per second, less the safety margin).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from catalyst_ibkr.adapters.webapi.broker import WebApiBroker
from catalyst_ibkr.adapters.webapi.parse import history_bars
from catalyst_ibkr.adapters.webapi.snapshots import SnapshotIncomplete
from catalyst_ibkr.cli.broker_run import BrokerCommand, broker_command
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.main import app
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.ports.broker import Broker, BrokerError

__all__ = ["accounts", "history", "quote", "status"]

#: Requests per second the governor allows at scale 1 (10/s less the 5 % margin).
_PACED_RATE = 9.5


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Is the gateway up, and is its brokerage session usable? (exit 4 if not)"""
    cmd = broker_command(ctx)

    async def act(broker: Broker) -> dict[str, Any]:
        health = await broker.health()
        document: dict[str, Any] = {
            "gateway": cmd.gateway,
            "ok": health.ok,
            "connected": health.connected,
            "authenticated": health.authenticated,
            "competing": health.competing,
            "detail": health.detail,
            "time": health.time,
        }
        if isinstance(broker, WebApiBroker):
            keeper = broker.stack.keeper.health
            document["state"] = keeper.state.value
            document["server"] = keeper.server_name
            document["tls"] = broker.stack.tls_mode
        return document

    document = cmd.run(act, start=False)
    if not document["ok"]:
        cmd.fail(ExitCode.GATEWAY_UNAVAILABLE,
                 f"the gateway session is not usable: {document['detail']}", status=document)
    rows = [[k, v] for k, v in document.items()]
    cmd.out.result(document, columns=["", "value"], rows=rows, title="gateway status")


@app.command("accounts")
def accounts(ctx: typer.Context) -> None:
    """The accounts this gateway session can trade."""
    cmd = broker_command(ctx)

    async def act(broker: Broker) -> list[dict[str, Any]]:
        if not isinstance(broker, WebApiBroker):
            summary = await broker.account()
            return [{"account": summary.account, "selected": True,
                     "paper": summary.is_paper}]
        answer = await broker.client.iserver_accounts()
        return [
            {"account": a, "selected": a == (answer.selectedAccount or a),
             "paper": a.startswith("DU")}
            for a in answer.accounts
        ]

    rows = cmd.run(act, start=False)
    cmd.out.result(rows, columns=["account", "selected", "paper"],
                   rows=[[r["account"], r["selected"], r["paper"]] for r in rows])


def _estimate_s(symbols: int, time_scale: float) -> float:
    """Paced seconds: session start (~4 requests), resolution (50 symbols per request) and
    about three snapshot rounds per 100 conids (pre-flight, values, a late field)."""
    requests = 4 + math.ceil(symbols / 50) + 3 * math.ceil(symbols / 100)
    return requests / _PACED_RATE / time_scale


async def _resolve_all(cmd: BrokerCommand, broker: Broker,
                       symbols: list[str]) -> dict[str, Instrument]:
    if isinstance(broker, WebApiBroker):
        found = await broker.resolve_many(symbols)
    else:
        found = {}
        for symbol in symbols:
            try:
                found[symbol.upper()] = await broker.resolve(symbol)
            except BrokerError as exc:
                found[symbol.upper()] = exc
    bad = {s: v for s, v in found.items() if isinstance(v, BrokerError)}
    if bad:
        cmd.fail(ExitCode.USAGE_OR_CONFIG,
                 "cannot quote: " + "; ".join(str(e) for e in bad.values())
                 + ". Nothing was quoted.", unknown=sorted(bad))
    return {s: v for s, v in found.items() if isinstance(v, Instrument)}


@app.command("quote")
def quote(
    ctx: typer.Context,
    symbols: Annotated[list[str], typer.Argument(help="One or more ticker symbols.")],
) -> None:
    """Last, bid and ask for each symbol (many per request; pre-flight handled)."""
    cmd = broker_command(ctx)
    show = _estimate_s(len(symbols), cmd.loaded.settings.pacing.time_scale) > 1.0
    console = cmd.out.err_console

    async def act(broker: Broker) -> list[dict[str, Any]]:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
                "{task.completed}/{task.total}"), TimeElapsedColumn(), console=console,
                transient=True, disable=not (show and console.is_terminal)) as bar:
            task = bar.add_task("resolving symbols", total=len(symbols))
            instruments = await _resolve_all(cmd, broker, symbols)
            bar.update(task, description="quoting", completed=0, total=len(instruments))
            conids = [int(i.conid) for i in instruments.values()]
            now = datetime.now(UTC)
            if isinstance(broker, WebApiBroker):
                try:
                    snaps = await broker.snapshot(
                        conids, progress=lambda done, total: bar.update(task, completed=done))
                except SnapshotIncomplete as exc:
                    names = {int(i.conid): s for s, i in instruments.items()}
                    missing = {names.get(c, str(c)): f for c, f in exc.missing.items()}
                    unavailable = [names.get(c, str(c)) for c in exc.unavailable]
                    cmd.fail(ExitCode.GATEWAY_UNAVAILABLE, str(exc), missing=missing,
                             no_permission=unavailable)
                prices = {c: (q.last.value, q.bid.value, q.ask.value,
                              min(q.updated, now) if q.updated else now)
                          for c, q in snaps.items()}
            else:
                prices = {int(q.conid): (q.last, q.bid, q.ask, q.time)
                          for q in await broker.quotes([i.conid for i in instruments.values()])}
        out = []
        for symbol, instrument in instruments.items():
            last, bid, ask, when = prices.get(int(instrument.conid), (None, None, None, None))
            out.append({"symbol": symbol, "conid": int(instrument.conid), "last": last,
                        "bid": bid, "ask": ask, "time": when})
        return out

    rows = cmd.run(act)
    columns = ["symbol", "conid", "last", "bid", "ask", "time"]
    cmd.out.result(rows, columns=columns, rows=[[r[c] for c in columns] for r in rows])


@app.command("history")
def history(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Argument(help="Ticker symbol.")],
    period: Annotated[str, typer.Option("--period", help="IBKR period, e.g. 1d, 1w, 1m.")] = "1w",
    bar: Annotated[str, typer.Option("--bar", help="Bar size, e.g. 5min, 1h, 1d.")] = "1d",
) -> None:
    """Historical bars (Web API /iserver/marketdata/history)."""
    cmd = broker_command(ctx)

    async def act(broker: Broker) -> list[dict[str, Any]]:
        if not isinstance(broker, WebApiBroker):
            cmd.fail(ExitCode.USAGE_OR_CONFIG, "history is available on the Web API gateway only")
        instrument = await broker.resolve(symbol)
        answer = await broker.client.history(int(instrument.conid), period=period, bar=bar)
        return [{"time": b.time, "open": b.open, "high": b.high, "low": b.low,
                 "close": b.close, "volume": b.volume} for b in history_bars(answer)]

    rows = cmd.run(act)
    columns = ["time", "open", "high", "low", "close", "volume"]
    cmd.out.result(rows, columns=columns, rows=[[r[c] for c in columns] for r in rows],
                   title=f"{symbol.upper()} {period} / {bar}")
