"""The demo's closing report: orders, fills, positions, P&L and every denial with its reason.

Everything shown is read back through the service's HTTP API (the same views a client
gets), so the report is also a check that the API tells the whole story.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from catalyst_ibkr.cli.demo_replay import DemoRow, ReplayResult

__all__ = ["DemoReport", "gather", "render"]


@dataclass
class DemoReport:
    signals: dict[str, dict[str, Any]]
    orders: list[dict[str, Any]]
    positions: list[dict[str, Any]]
    account: dict[str, Any]
    risk: dict[str, Any]


async def gather(client: httpx.AsyncClient, result: ReplayResult) -> DemoReport:
    async def get(path: str) -> Any:
        response = await client.get(path)
        response.raise_for_status()
        return response.json()

    ids = list(result.answers)
    views = await asyncio.gather(*(get(f"/v1/signals/{i}") for i in ids))
    return DemoReport(
        signals=dict(zip(ids, views, strict=True)),
        orders=await get("/v1/orders"),
        positions=await get("/v1/positions"),
        account=await get("/v1/account"),
        risk=await get("/v1/risk"),
    )


def _d(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _money(value: Any) -> str:
    if value in (None, ""):
        return ""
    return f"{_d(value):,.2f}"


def _qty(value: Any) -> str:
    if value in (None, ""):
        return ""
    number = _d(value)
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def render(console: Console, report: DemoReport, result: ReplayResult, rows: list[DemoRow],
           unsettled: list[str]) -> None:
    signals = report.signals
    counts = Counter(view["status"] for view in signals.values())
    console.print()
    console.rule("[bold]catalyst-ibkr demo: the morning's report")
    quotes = sum(1 for r in rows if r.kind == "quote")
    posted = sum(len(a) for a in result.answers.values()) + len(result.refused)
    console.print(f"Replayed {len(rows)} rows: {posted} signal posts ({len(signals)} distinct "
                  f"ids, {len(result.refused)} refused at intake), {quotes} market quotes, "
                  f"{len(result.commands)} operator commands.")
    console.print("Signal outcomes: " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))

    if result.known_before:
        console.print(
            f"[bold cyan]Resumed:[/] {len(result.known_before)} of {len(signals)} signal ids were "
            "already in the journal from an earlier run; the service answered them "
            "idempotently (the first answers again, no second order sent)."
        )
    drift = [p["symbol"] for p in report.positions if p.get("drift")]
    if result.known_before and not drift:
        console.print(
            "[cyan]Resumed:[/] the simulated account kept its book from the earlier run, as "
            "IBKR does; the broker's positions match the journal (no drift)."
        )
    if result.known_before and drift:
        console.print(
            f"[cyan]Note:[/] the broker's positions differ from the journal for {len(drift)} "
            "symbols (the simulator's book file was deleted or changed without --fresh?); "
            "the service flags them (DRIFT below), alerts and holds sending, as it must when "
            "the journal and the broker disagree. Nothing was sent on this run."
        )
    repeats = [i for i, answers in result.answers.items() if len(answers) > 1]
    for sid in repeats:
        same = all(a == result.answers[sid][0] for a in result.answers[sid])
        console.print(f"Idempotency: {sid} was posted {len(result.answers[sid])} times; "
                      f"{'the same answer every time' if same else 'DIFFERENT ANSWERS'}, "
                      f"one order.")

    table = _table("Signals", "id", "signal", "status", "filled", "avg price", "reason")
    for sid, view in signals.items():
        price = view.get("limit_price") or view.get("stop_price") or ""
        table.add_row(sid, f"{view['side']} {_qty(view['quantity'])} {view['symbol']} "
                      f"{view['order_type']} {price}".rstrip(), view["status"],
                      _qty(view.get("filled_quantity")), _money(view.get("avg_fill_price")),
                      view.get("reason_code") or "")
    console.print(table)

    table = _table("Orders", "order", "signal", "symbol", "side", "qty", "type", "price",
                   "status", "filled", "avg")
    for order in report.orders:
        price = order.get("limit_price") or order.get("stop_price") or ""
        table.add_row(str(order.get("broker_order_id") or order["order_ref"]),
                      order.get("signal_id") or ("external" if order.get("external") else ""),
                      order["symbol"], order["side"], _qty(order["quantity"]),
                      order["order_type"], _money(price), order["status"],
                      _qty(order["filled_quantity"]), _money(order.get("avg_fill_price")))
    console.print(table)

    fills = sorted((fill for view in signals.values() for fill in view.get("fills", [])),
                   key=lambda f: f["time"])
    table = _table(f"Fills ({len(fills)})", "time", "symbol", "side", "qty", "price",
                   "execution")
    for fill in fills:
        table.add_row(fill["time"][11:19], fill["symbol"], fill["side"], _qty(fill["quantity"]),
                      _money(fill["price"]), fill["execution_id"])
    console.print(table)

    table = _table("Positions and P&L (USD)", "symbol", "qty", "avg price", "mark",
                   "unrealized", "realized", "IBKR qty")
    unrealized = Decimal(0)
    realized = Decimal(0)
    for pos in report.positions:
        unrealized += _d(pos.get("unrealized_pnl"))
        realized += _d(pos.get("realized_pnl"))
        broker = pos.get("broker_quantity")
        table.add_row(pos["symbol"], _qty(pos["quantity"]), _money(pos.get("avg_price")),
                      _money(pos.get("mark_price")), _money(pos.get("unrealized_pnl")),
                      _money(pos.get("realized_pnl")),
                      (_qty(broker) if broker is not None else "") +
                      (" DRIFT" if pos.get("drift") else ""))
    console.print(table)
    console.print(f"P&L: realized {_money(realized)}, unrealized {_money(unrealized)}, "
                  f"total {_money(realized + unrealized)}. Account "
                  f"{report.account.get('account') or '?'} net liquidation "
                  f"{_money(report.account.get('net_liquidation'))}; trading state "
                  f"{report.risk.get('trading_state')}.")

    denials = [(sid, v) for sid, v in signals.items() if v["status"] == "DENIED"]
    table = _table(f"Denied by risk ({len(denials)}; no broker call for any)", "id", "signal",
                   "reason code", "reason")
    for sid, view in denials:
        table.add_row(sid, f"{view['side']} {_qty(view['quantity'])} {view['symbol']}",
                      view.get("reason_code") or "", view.get("reason") or "")
    console.print(table)
    rejected = [(sid, v) for sid, v in signals.items() if v["status"] == "REJECTED"]
    if rejected:
        table = _table("Rejected (by IBKR or refused before sending)", "id", "signal", "reason")
        for sid, view in rejected:
            table.add_row(sid, f"{view['side']} {_qty(view['quantity'])} {view['symbol']}",
                          view.get("reason") or view.get("reason_code") or "")
        console.print(table)
    for row, answer in result.refused:
        issues = "; ".join(f"{i['field']}: {i['problem']}"
                           for i in answer.get("error", {}).get("issues", []))
        console.print(f"Refused at intake (HTTP 422, nothing stored): line {row.line} "
                      f"{row.fields.get('id')}: {issues}")
    for row, status, answer in result.commands:
        detail = answer.get("trading_state") or answer.get("status") or answer
        console.print(f"Operator at {row.at}: {row.describe()} -> HTTP {status} ({detail})")
    if unsettled:
        console.print(f"[bold red]Not settled in time:[/] {', '.join(unsettled)}")
