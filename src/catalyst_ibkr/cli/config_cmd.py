"""``catalyst-ibkr config check``: validate a config file and show the effective settings.

It answers "what will the gateway actually use, and why?": every key with its value and
whether it came from the default, the file, an environment variable or a flag, secrets
masked. With no config file it prints the conservative defaults and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalyst_ibkr.cli.context import load_cli_settings
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.main import GlobalOptions, app
from catalyst_ibkr.cli.output import Output
from catalyst_ibkr.config.describe import effective_document, effective_values
from catalyst_ibkr.config.guards import service_bind_problem
from catalyst_ibkr.config.loader import DEFAULT_CONFIG_FILENAME

__all__ = ["config_app"]

config_app = typer.Typer(
    name="config",
    help="Inspect and validate the configuration file.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


def _sim_table_problem(path: Path) -> str | None:
    """The simulator's own verdict on the file's ``[sim]`` table (it owns those keys)."""
    try:
        from ibkr_sim.options import SimOptions, load_config
    except ImportError:  # a build without the simulator
        return None
    try:
        load_config(path, SimOptions())
    except ValueError as exc:
        return str(exc)
    return None


@config_app.command("check")
def check(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file to check (default: the global --config, then ./"
            f"{DEFAULT_CONFIG_FILENAME} if present).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")
    ] = False,
) -> None:
    """Validate the config and print the effective settings (secrets masked).

    Exit code 0 when valid, 2 with every problem on stderr when not.
    """
    options: GlobalOptions = ctx.obj
    out = Output(json_mode=json_output or options.json)
    loaded = load_cli_settings(options, out, config=config, ctx=ctx)
    if loaded.path is not None:
        problem = _sim_table_problem(loaded.path)
        if problem is not None:
            out.fail(ExitCode.USAGE_OR_CONFIG, f"invalid configuration:\n{problem}")
    document = effective_document(loaded)
    bind = service_bind_problem(loaded.settings)
    if bind is not None:
        warning = f"`catalyst-ibkr serve` would refuse to start: {bind}"
        out.warn(warning)
        document["warnings"].append(warning)
    if out.json_mode:
        out.result(document)
        return
    if loaded.path is None:
        out.line(
            f"No config file (./{DEFAULT_CONFIG_FILENAME} not found, no --config given): "
            "these are the conservative defaults in use."
        )
    else:
        out.line(f"Config file: {loaded.path}")
    out.table(
        ["section", "key", "value", "source"],
        [[f"[{row.section}]", row.key, row.value, row.source] for row in effective_values(loaded)],
    )
    out.line("Configuration is valid.")
