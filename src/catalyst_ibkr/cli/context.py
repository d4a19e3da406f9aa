"""What every command needs before it acts: the loaded settings and the gateway to talk to.

Flags are applied as the top layer of the same loader (default < IBEAM_URL < file < env <
flag), so ``--gateway`` and ``--account`` go through the same validation and paper/live
interlock as the config file, and ``config check --gateway X`` shows what a command would use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import typer

from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.output import Output
from catalyst_ibkr.config.errors import ConfigError
from catalyst_ibkr.config.loader import Override, read_settings
from catalyst_ibkr.config.sections import check_gateway_url
from catalyst_ibkr.config.settings import LoadedSettings

if TYPE_CHECKING:
    from catalyst_ibkr.cli.main import GlobalOptions

__all__ = [
    "DEFAULT_GATEWAY_URL",
    "GatewayChoice",
    "flag_overrides",
    "load_cli_settings",
    "resolve_account",
    "resolve_client_id",
    "resolve_gateway",
]

DEFAULT_GATEWAY_URL = "https://localhost:5000"


class _GlobalFlags(Protocol):
    """The part of ``GlobalOptions`` this module reads."""

    gateway: str | None
    account: str | None
    ca: Path | None
    config: Path | None


@dataclass(frozen=True)
class GatewayChoice:
    """The gateway URL a command uses and why (``flag --gateway``, ``file``, ``env ...``)."""

    url: str
    source: str


def _given_on_command_line(ctx: typer.Context | None, name: str) -> bool:
    """Whether a root-level option was typed (not just its default).

    ``GlobalOptions.client_id`` defaults to 1, so its value alone cannot tell "--client-id 1"
    from "not given"; the parser records where each value came from.
    """
    if ctx is None:
        return False
    root = ctx.find_root()
    source = root.get_parameter_source(name)
    # Compared by name: typer vendors its own click, whose ParameterSource is private.
    return getattr(source, "name", None) in ("COMMANDLINE", "ENVIRONMENT")


def flag_overrides(
    options: _GlobalFlags | GlobalOptions, ctx: typer.Context | None = None
) -> list[Override]:
    """The global flags that map onto config keys, as loader overrides.

    Pass the command's ``ctx`` so that an explicit ``--client-id`` is honoured too.
    """
    overrides = []
    if options.gateway is not None:
        overrides.append(Override("gateway.url", options.gateway, "flag --gateway"))
    if options.account is not None:
        overrides.append(Override("gateway.account", options.account, "flag --account"))
    if options.ca is not None:
        overrides.append(Override("gateway.ca_file", options.ca, "flag --ca"))
    if _given_on_command_line(ctx, "client_id"):
        client_id = getattr(options, "client_id", None)
        if isinstance(client_id, int):
            overrides.append(Override("gateway.client_id", client_id, "flag --client-id"))
    return overrides


def load_cli_settings(
    options: _GlobalFlags | GlobalOptions,
    out: Output,
    *,
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
    cwd: Path | None = None,
    ctx: typer.Context | None = None,
) -> LoadedSettings:
    """Load settings for a command, or exit 2 with every problem on stderr.

    ``config`` (a command's own ``--config``) wins over the global ``--config``. Warnings
    (e.g. a secret written in the file) are printed on stderr.
    """
    path = config if config is not None else options.config
    try:
        loaded = read_settings(
            path,
            os.environ if env is None else env,
            cwd=cwd,
            overrides=flag_overrides(options, ctx),
        )
    except ConfigError as exc:
        out.fail(
            ExitCode.USAGE_OR_CONFIG,
            f"invalid configuration:\n{exc}",
            details={
                "issues": [
                    {"where": i.where, "key": i.key, "message": i.message, "origin": i.origin}
                    for i in exc.issues
                ]
            },
        )
    for warning in loaded.warnings:
        out.warn(warning)
    return loaded


def resolve_gateway(options: _GlobalFlags | GlobalOptions, loaded: LoadedSettings) -> GatewayChoice:
    """The gateway URL: ``--gateway``, else config (file or env), else ``IBEAM_URL``, else default.

    ``loaded`` already layers IBEAM_URL under the file and the default under both, so only
    the flag needs checking here (in case ``loaded`` was built without flag overrides).
    """
    if options.gateway is not None:
        try:
            url = check_gateway_url(options.gateway)
        except ValueError as exc:
            raise ConfigError.single(
                loaded.where, "[gateway] url", str(exc), "flag --gateway"
            ) from None
        return GatewayChoice(url, "flag --gateway")
    return GatewayChoice(loaded.settings.gateway.url, loaded.source_of("gateway", "url"))


def resolve_account(options: _GlobalFlags | GlobalOptions, loaded: LoadedSettings) -> str | None:
    """The account to act on: ``--account``, else ``[gateway] account`` (None: ask the gateway)."""
    if options.account is not None:
        return options.account
    return loaded.settings.gateway.account


def resolve_client_id(loaded: LoadedSettings) -> int:
    """The TWS client id: ``--client-id`` when typed (via ``load_cli_settings(ctx=...)``),
    else ``[gateway] client_id`` (default 1)."""
    return loaded.settings.gateway.client_id
