"""``catalyst-ibkr demo --walkthrough``: the seed's paper-trade procedure, raw, against an
in-process simulator.

Kept from the first demo because it shows the Client Portal API itself, step by step: auth,
accounts, the AAPL conid, a market-data snapshot, a market order with its confirmation
question, the fill and the positions, over real HTTPS verified against the simulator's own
certificate. The main demo (``demo.py``) drives the execution service instead.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from ibkr_sim.options import SimOptions
from ibkr_sim.server import SimServer

console = Console()


class DemoError(Exception):
    """A step did not give what the procedure expects."""


def _step(number: int, title: str) -> None:
    console.print(f"\n[bold cyan]{number}. {title}[/]")


async def _json(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise DemoError(f"{response.request.method} {response.request.url.path} -> "
                        f"HTTP {response.status_code}: {response.text[:200]}")
    return response.json()


async def _walk(client: httpx.AsyncClient) -> None:
    _step(1, "Gateway authentication status")
    status = await _json(await client.get("/iserver/auth/status"))
    console.print(f"   authenticated={status['authenticated']} connected={status['connected']} "
                  f"competing={status['competing']}")
    if not status["authenticated"]:
        raise DemoError("the gateway is not authenticated")

    _step(2, "Accounts")
    accounts = await _json(await client.get("/portfolio/accounts"))
    account = accounts[0]["accountId"]
    console.print(f"   account {account} ({accounts[0]['type']})")

    _step(3, "AAPL contract id")
    found = await _json(await client.get("/iserver/secdef/search", params={"symbol": "AAPL"}))
    conid = int(found[0]["conid"])
    console.print(f"   {found[0]['companyHeader']}: conid {conid}")

    _step(4, "Market data snapshot (the first request only opens the stream)")
    params = {"conids": str(conid), "fields": "31,84,86"}
    row: dict[str, Any] = {}
    for attempt in range(1, 6):
        row = (await _json(await client.get("/iserver/marketdata/snapshot", params=params)))[0]
        if "31" in row:
            break
        console.print(f"   request {attempt}: pre-flight, no values yet")
        await asyncio.sleep(0.2)
    console.print(f"   last {row.get('31')}  bid {row.get('84')}  ask {row.get('86')}")

    _step(5, "Paper market order: BUY 1 AAPL")
    order = {"conid": conid, "side": "BUY", "quantity": 1, "orderType": "MKT", "tif": "DAY"}
    answer = await _json(
        await client.post(f"/iserver/account/{account}/orders", json={"orders": [order]})
    )

    _step(6, "Confirmation")
    for _ in range(10):
        if isinstance(answer, dict) and "error" in answer:
            raise DemoError(f"order rejected: {answer['error']}")
        if not (isinstance(answer, list) and answer and "id" in answer[0]):
            break
        question = answer[0]
        console.print(f"   IBKR asks ({', '.join(question['messageIds'])}): "
                      f"[italic]{question['message'][0].splitlines()[0][:90]}...[/]")
        console.print("   answering: yes")
        answer = await _json(
            await client.post(f"/iserver/reply/{question['id']}", json={"confirmed": True})
        )
    order_id = answer[0]["order_id"]
    console.print(f"   accepted: order {order_id}, status {answer[0]['order_status']}")
    state: dict[str, Any] = {}
    for _ in range(25):
        state = await _json(await client.get(f"/iserver/account/order/status/{order_id}"))
        if state["order_status"] == "Filled":
            break
        await asyncio.sleep(0.2)
    console.print(f"   {state['order_description_with_contract']}: {state['order_status']}"
                  f" at {state.get('average_price', '-')}")

    _step(7, "Positions")
    rows = await _json(await client.get(f"/portfolio/{account}/positions/0"))
    table = Table("symbol", "conid", "position", "avg cost", "market value")
    for pos in rows:
        table.add_row(pos["contractDesc"], str(pos["conid"]), f"{pos['position']:g}",
                      f"{pos['avgCost']:.2f}", f"{pos['mktValue']:.2f}")
    console.print(table)


async def _demo(options: SimOptions) -> None:
    server = SimServer(options)
    await server.start()
    try:
        console.print(f"[bold]catalyst-ibkr demo[/]: simulator at {server.api_url}")
        verify: ssl.SSLContext | bool = True
        if server.ca_file is not None:
            console.print(f"TLS verified against {server.ca_file}")
            verify = ssl.create_default_context(cafile=str(server.ca_file))
        async with httpx.AsyncClient(base_url=server.api_url, verify=verify,
                                     timeout=10.0) as client:
            await _walk(client)
    finally:
        await server.stop()


def run_walkthrough(state_dir: Path) -> int:
    """Run the walk-through; the exit code (0 done, 1 a step failed)."""
    options = replace(SimOptions(), port=0, pacing=False, state_dir=state_dir)
    try:
        asyncio.run(_demo(options))
    except (DemoError, httpx.HTTPError) as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        return 1
    console.print("\n[bold green]done[/]: a paper order was placed, confirmed and filled.")
    return 0
