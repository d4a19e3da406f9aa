"""``catalyst-ibkr demo`` (``make demo``): a trading morning through the execution service.

Starts, in this process: the simulator, the service on a SQLite journal under the state
dir (``./.catalyst-ibkr/demo.db``) and its HTTP API on a free loopback port with fresh
keys. The service trades through the simulator's Client Portal Web API over HTTPS (its
own certificate trusted, IBKR's pacing on: the product's primary path) or, with
``--backend tws``, through its TWS socket view; the report ends with the gateway traffic
and fails the demo on any 429 or any cOID the simulator holds twice.
Replays ``examples/signals.csv`` through the API with a progress bar, waits until
every signal is settled (bounded), and prints the report (``demo_report``). A second run
uses the same journal: the same signal ids get the service's idempotent answers and
nothing is sent twice; the report says so. ``--fresh`` starts a new journal.

The simulator keeps its book next to the journal (``demo-sim.json``, its ``--persist``
file), as a real IBKR account keeps its positions, orders and executions between sessions:
a second run finds the account as the first run left it, so reconciliation sees no drift.
``--fresh`` deletes both files.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from catalyst_ibkr.cli.demo_replay import DemoRow, ReplayError, read_rows, replay, wait_settled
from catalyst_ibkr.cli.main import app
from catalyst_ibkr.config.loader import load_settings

if TYPE_CHECKING:  # the service stack is imported when the demo runs, not for every command
    from catalyst_ibkr.api.runtime import SimBackend
    from catalyst_ibkr.api.service_api import ServiceApi
    from ibkr_sim.server import SimServer

__all__ = ["DEFAULT_STATE_DIR", "demo_command", "find_signals_file"]

DEFAULT_STATE_DIR = Path(".catalyst-ibkr")
SIGNALS_FILE = Path("examples") / "signals.csv"
SETTLE_S = 60.0
SIM_BOOK = "demo-sim.json"  # the simulator's persistent book, beside the journal

# Piped or captured output (CI logs, `make demo | less`) gets room for the tables.
console = Console(width=None if sys.stdout.isatty() else 132)


def find_signals_file(given: Path | None) -> Path:
    """The CSV: as given, else ./examples/signals.csv, else the one in this checkout."""
    if given is not None:
        return given
    here = Path.cwd() / SIGNALS_FILE
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[3] / SIGNALS_FILE


@asynccontextmanager
async def _as_context(service: ServiceApi) -> AsyncIterator[ServiceApi]:
    yield service


async def _run(rows: list[DemoRow], state_dir: Path, backend: SimBackend) -> int:
    import uvicorn

    from catalyst_ibkr.api.app import create_app
    from catalyst_ibkr.api.auth import ApiKeys
    from catalyst_ibkr.api.runtime import RuntimeOptions, service_stack
    from catalyst_ibkr.cli.demo_report import gather, render
    from ibkr_sim.options import SimOptions

    settings = load_settings(None, {}).settings  # the conservative defaults, nothing else
    # The Web API client's pacing memory lives with the demo (one file per simulator port),
    # not in the user's shared state dir where every run would leave a file behind.
    pacing = settings.pacing.model_copy(update={"state_dir": (state_dir / "pacing").resolve()})
    settings = settings.model_copy(update={"pacing": pacing})
    keys = ApiKeys(api_key=secrets.token_urlsafe(32), admin_key=secrets.token_urlsafe(32))
    sims: list[SimServer] = []
    runtime = RuntimeOptions(
        db_url=f"sqlite:///{(state_dir / 'demo.db').resolve()}",
        gateway_url="https://127.0.0.1:1",  # replaced by the simulator's own address
        # the Web API view paces as IBKR does; the socket view has no REST pacing to apply
        sim=replace(SimOptions(), port=0, pacing=backend == "webapi",
                    state_dir=state_dir / "sim", persist_path=state_dir / SIM_BOOK),
        sim_backend=backend,
    )
    console.print("[bold]catalyst-ibkr demo[/]: simulator + execution service + HTTP API")
    async with service_stack(settings, runtime, on_sim=sims.append) as service:
        sim = sims[0]
        if backend == "webapi":
            console.print(f"  simulator   {sim.base_url}: Client Portal Web API over HTTPS, "
                          "IBKR pacing on")
            console.print(f"  trusting    {sim.ca_file} (the simulator's own certificate)")
        else:
            console.print(f"  simulator   {sim.base_url}; trading through its TWS socket "
                          f"view on port {sim.tws_port} (--backend tws)")
        console.print(f"  journal     {runtime.db_url}")
        if sim.state.book_file is not None:
            how = "resumed from" if sim.state.book_file.restored else "new, kept in"
            console.print(f"  broker book {how} {sim.state.book_file.path}")
        api = create_app(lambda: _as_context(service), keys=keys,
                         default_ttl_s=Decimal(str(settings.oms.default_ttl_s)))
        server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=0, lifespan="on",
                                               log_config=None, access_log=False))
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if serving.done():
                    await serving
                    raise ReplayError("the HTTP API did not start")
                await asyncio.sleep(0.02)
            port = server.servers[0].sockets[0].getsockname()[1]
            url = f"http://127.0.0.1:{port}"
            console.print(f"  HTTP API    {url} (docs at {url}/docs)\n")
            verify: ssl.SSLContext | bool = True
            if sim.ca_file is not None:
                verify = ssl.create_default_context(cafile=str(sim.ca_file))
            api_headers = {"Authorization": f"Bearer {keys.api_key}"}
            admin_headers = {"Authorization": f"Bearer {keys.admin_key}"}
            async with httpx.AsyncClient(base_url=url, headers=api_headers,
                                         timeout=30) as client, \
                    httpx.AsyncClient(base_url=sim.base_url, verify=verify,
                                      timeout=30) as sim_client:
                with Progress(TextColumn("[bold]{task.description:<44}"), BarColumn(),
                              MofNCompleteColumn(), TimeElapsedColumn(),
                              console=console) as progress:
                    task = progress.add_task("replaying examples/signals.csv", total=len(rows))

                    def on_row(row: DemoRow) -> None:
                        progress.update(task, advance=1,
                                        description=f"{row.at} {row.describe()}"[:44])

                    result = await replay(rows, client, sim_client, admin_headers,
                                          settle_s=SETTLE_S, on_row=on_row)
                    progress.update(task, description="waiting until every signal settles")
                    unsettled = await wait_settled(client, result.sent, timeout_s=SETTLE_S)
                report = await gather(client, result)
                sim_state = (await sim_client.get("/sim/state")).json()
            _with_broker_quantities(report.positions, sim_state)
            render(console, report, result, rows, unsettled)
            throttled = _print_gateway_traffic(sim_state, backend)
        finally:
            server.should_exit = True
            await serving
    return 1 if unsettled or throttled else 0


def _with_broker_quantities(positions: list[dict[str, Any]], sim_state: dict[str, Any]) -> None:
    """Fill the report's "IBKR qty" column from the gateway's book as it is now.

    The service's own view carries the quantities of its last periodic reconciliation,
    which may predate the morning's last fills; the report compares against the broker's
    present state instead, so a difference shown there is a real one.
    """
    held: dict[int, Decimal] = {}
    for row in sim_state.get("positions", []):
        held[int(row["conid"])] = held.get(int(row["conid"]), Decimal(0)) + Decimal(
            str(row["quantity"]))
    for pos in positions:
        broker = held.get(int(pos["conid"]), Decimal(0))
        pos["broker_quantity"] = str(broker)
        pos["drift"] = Decimal(str(pos["quantity"])) != broker


def _print_gateway_traffic(sim_state: dict[str, Any], backend: SimBackend) -> bool:
    """Say what the broker asked of the gateway; True if pacing was hit or a cOID doubled.

    A 429 in the demo is a pacing bug in our client, never something to hide: the demo then
    fails with the count, so a regression is seen the first time someone runs it.
    """
    stats = sim_state.get("stats", {})
    orders = sim_state.get("orders", [])
    total, limited = stats.get("requests_total", 0), stats.get("rate_limited_total", 0)
    coids = [o.get("cOID") for o in orders if o.get("cOID")]
    twice = sorted({c for c in coids if coids.count(c) > 1})
    book = (f"{len(orders)} orders on the simulator's book, "
            + (f"[bold red]cOIDs sent twice: {', '.join(twice)}[/]" if twice
               else "at most one per cOID"))
    if backend == "webapi":
        console.print(f"Gateway traffic: {total} Client Portal requests, {limited} answered "
                      f"429 (pacing); {book}.")
    else:
        console.print(f"Gateway traffic: TWS socket API; {book}.")
    if limited:
        console.print(f"[bold red]IBKR pacing was hit {limited} times[/]: that is a bug in "
                      "the client's pacing; please report it.")
    return bool(limited or twice)


@app.command("demo")
def demo_command(
    state_dir: Annotated[Path, typer.Option(
        "--state-dir", help="Where the demo journal (demo.db) and simulator files live.")
    ] = DEFAULT_STATE_DIR,
    signals: Annotated[Path | None, typer.Option(
        "--signals", help="The morning to replay (default examples/signals.csv).")] = None,
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Start over: delete the journal and the simulator's book instead "
                        "of resuming the previous run's.")] = False,
    backend: Annotated[str, typer.Option(
        "--backend", metavar="webapi|tws",
        help="The simulator's view to trade through: the Client Portal Web API over HTTPS "
             "(default; IBKR pacing) or the TWS socket API.")] = "webapi",
    walkthrough: Annotated[bool, typer.Option(
        "--walkthrough", help="Instead: the seed's raw Client Portal procedure, step by step.")
    ] = False,
) -> None:
    """A trading morning through the execution service (simulator, journal, HTTP API)."""
    from ibkr_sim.engine.snapshot import SnapshotError

    if backend not in ("webapi", "tws"):
        console.print(f"[bold red]demo:[/] --backend must be webapi or tws, not {backend!r}")
        raise typer.Exit(2)
    if walkthrough:
        from catalyst_ibkr.cli.demo_walkthrough import run_walkthrough

        raise typer.Exit(run_walkthrough(state_dir))
    try:
        rows = read_rows(find_signals_file(signals))
        state_dir.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                (state_dir / f"demo.db{suffix}").unlink(missing_ok=True)
            (state_dir / SIM_BOOK).unlink(missing_ok=True)  # the broker side starts over too
        code = asyncio.run(_run(rows, state_dir, "tws" if backend == "tws" else "webapi"))
    except ReplayError as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        raise typer.Exit(1) from None
    except SnapshotError as exc:  # the simulator's book file is unusable; says to delete it
        console.print(f"[bold red]demo failed:[/] {exc} (or run the demo with --fresh)")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        console.print(f"[bold red]demo failed:[/] the service did not answer ({exc})")
        raise typer.Exit(1) from None
    if code == 0:
        console.print("\n[bold green]done[/]: run it again to see the journal resume "
                      "(same ids, same answers, nothing sent twice); --fresh starts over.")
    raise typer.Exit(code)
