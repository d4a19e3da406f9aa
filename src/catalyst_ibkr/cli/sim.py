"""``catalyst-ibkr sim``: run the offline Client Portal Gateway simulator.

Only parses flags; everything else lives in ``ibkr_sim`` (the broker side of the wire), so
``python -m ibkr_sim`` and this command behave identically.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from catalyst_ibkr.cli.main import app
from ibkr_sim.options import DEFAULT_STATE_DIR, SimOptions, load_config, parse_hhmm
from ibkr_sim.server import run


@app.command("sim")
def sim_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(5000, "--port", help="Port (0 = any free port)."),
    no_tls: bool = typer.Option(False, "--no-tls", help="Serve plain http instead of https."),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulated market."),
    time_scale: float = typer.Option(
        1.0, "--time-scale", help="Sim seconds per real second; divides every IBKR duration."
    ),
    no_pacing: bool = typer.Option(False, "--no-pacing", help="Never answer 429."),
    penalty_s: float = typer.Option(900.0, "--penalty-s", help="Penalty box length (sim s)."),
    market_hours: str = typer.Option(
        "always", "--market-hours", help="'always' (default) or 'nyse' (09:30-16:00 ET)."
    ),
    daily_reset: str | None = typer.Option(
        None, "--daily-reset", metavar="HH:MM", help="Daily brokerage-session reset (UTC)."
    ),
    relogin_s: float = typer.Option(
        5.0, "--relogin-s", help="Sim seconds until IBeam logs in again after a restart."
    ),
    tws_port: int | None = typer.Option(
        None, "--tws-port", help="Also serve the TWS socket API on this port (0 = any free port)."
    ),
    state_dir: Annotated[
        Path, typer.Option("--state-dir", help="Where the TLS certificate is kept.")
    ] = DEFAULT_STATE_DIR,
    persist: Annotated[
        Path | None,
        typer.Option(
            "--persist", metavar="FILE",
            help="Keep the account's book (cash, positions, orders, executions) in FILE "
            "across restarts.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML file whose \\[sim] table sets the same options."),
    ] = None,
) -> None:
    """Run the offline simulator of IBKR's Client Portal Gateway (docs/simulator.md)."""
    try:
        if market_hours not in ("always", "nyse"):
            raise ValueError(f"--market-hours must be 'always' or 'nyse', got {market_hours!r}")
        options = SimOptions(
            host=host, port=port, tls=not no_tls, seed=seed, time_scale=time_scale,
            pacing=not no_pacing, penalty_s=penalty_s,
            market_hours="nyse" if market_hours == "nyse" else "always",
            tws_port=tws_port, state_dir=state_dir, relogin_s=relogin_s,
            persist_path=persist,
        )
        if daily_reset:
            options = replace(options, daily_reset=parse_hhmm(daily_reset))
        if config is not None:
            options = load_config(config, options)
        options.validate()
    except ValueError as exc:
        print(f"catalyst-ibkr sim: {exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
    try:
        run(options)
    except ValueError as exc:  # an unusable --persist file: the message says how to fix it
        print(f"catalyst-ibkr sim: {exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
    except OSError as exc:
        print(f"catalyst-ibkr sim: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        raise typer.Exit(4) from exc
