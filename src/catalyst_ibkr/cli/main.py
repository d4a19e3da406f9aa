"""The ``catalyst-ibkr`` command: global options, and one module per command group.

Each command group lives in its own module and registers itself on ``app`` here, so this
file stays a table of contents. Global options are parsed once into ``GlobalOptions`` and
handed to commands through the Typer context.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

app = typer.Typer(
    name="catalyst-ibkr",
    help=(
        "Execution gateway from Catalyst signals to Interactive Brokers, with an offline "
        "Client Portal Gateway simulator."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass(frozen=True)
class GlobalOptions:
    """Options every command shares (see docs/cli.md)."""

    gateway: str | None
    account: str | None
    json: bool
    insecure: bool
    ca: Path | None
    config: Path | None
    client_id: int


@app.callback()
def _global_options(
    ctx: typer.Context,
    gateway: str | None = typer.Option(
        None,
        "--gateway",
        help=(
            "Gateway URL: https://host:port or http://host:port (Client Portal / IBeam), "
            "tws://host:port (IB Gateway / TWS). Default: config, then IBEAM_URL, then "
            "https://localhost:5000."
        ),
    ),
    account: str | None = typer.Option(None, "--account", help="IBKR account id to act on."),
    json_output: bool = typer.Option(
        False, "--json", help="Print exactly one JSON document on stdout; logs go to stderr."
    ),
    insecure: bool = typer.Option(
        False,
        "--insecure",
        help="Skip TLS verification of the gateway (warns every time; prefer --ca or gateway pin).",
    ),
    ca: Path | None = typer.Option(
        None, "--ca", help="CA bundle or certificate file to verify the gateway's TLS against."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Config file (TOML). Default: ./catalyst-ibkr.toml if present."
    ),
    client_id: int = typer.Option(
        1, "--client-id", help="TWS API client id (only for tws:// gateways)."
    ),
) -> None:
    ctx.obj = GlobalOptions(
        gateway=gateway,
        account=account,
        json=json_output,
        insecure=insecure,
        ca=ca,
        config=config,
        client_id=client_id,
    )


_VALUE_OPTIONS = frozenset({"--gateway", "--account", "--ca", "--config", "--client-id"})


def _invoked_command(argv: list[str]) -> str | None:
    """The command word of a console invocation (skipping global options and their values)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _register_commands() -> None:
    """Import the command modules; each adds its commands to ``app``.

    ``catalyst-ibkr sim`` imports only its own module: the others pull in FastAPI,
    SQLAlchemy and ib_async (about 2 s on a busy 2-core machine), and the simulator must
    serve within 2 seconds of starting (docs/benchmarks.md).
    """
    import importlib
    import sys

    names: tuple[str, ...] = (
        "sim", "demo", "config_cmd", "gateway", "serve", "kill",
        "market_cmds", "trade_cmds", "book_cmds",
    )
    if _invoked_command(sys.argv[1:]) == "sim" and "--help" not in sys.argv:
        names = ("sim",)
    for name in names:
        try:
            importlib.import_module(f"catalyst_ibkr.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"catalyst_ibkr.cli.{name}":
                raise


_register_commands()


def run() -> None:
    """Console-script entry point."""
    from catalyst_ibkr.logging import configure_logging

    # Logs to stderr with secrets masked: structlog's default would print to stdout and
    # corrupt --json output. Commands that want more (serve) reconfigure at INFO.
    configure_logging("WARNING")
    app()
