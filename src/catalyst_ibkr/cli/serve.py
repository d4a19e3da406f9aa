"""``catalyst-ibkr serve``: the execution service over HTTP (docs/service.md).

Order of start-up, each step able to stop the process with a message that says what to
fix (exit 2): load and validate settings (flags are the top layer of the same loader, so
``--db`` / ``--host`` get the config's checks); refuse a non-loopback bind without both
keys; start the simulator (``--sim``), connect the broker, build the service and migrate
the journal; only then serve the port. A gateway not usable yet does not stop the start:
the service serves, holds every send and keeps trying (api/gateway_wait.py).
Building the service before uvicorn (not in its lifespan) keeps start-up failures out of
uvicorn's traceback logging.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from catalyst_ibkr.cli.context import flag_overrides, resolve_account, resolve_gateway
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.main import GlobalOptions, app
from catalyst_ibkr.cli.output import Output
from catalyst_ibkr.config.describe import effective_values
from catalyst_ibkr.config.errors import ConfigError
from catalyst_ibkr.config.guards import service_bind_problem
from catalyst_ibkr.config.loader import Override, read_settings
from catalyst_ibkr.config.secrets import MaskedUrl
from catalyst_ibkr.config.settings import LoadedSettings
from catalyst_ibkr.ports.broker import BrokerMisconfigured, BrokerUnavailable
from catalyst_ibkr.service.interlock import InterlockRefused

if TYPE_CHECKING:  # the service stack is imported when serve runs, not for every command
    from catalyst_ibkr.api.auth import ApiKeys
    from catalyst_ibkr.api.runtime import RuntimeOptions
    from catalyst_ibkr.api.service_api import ServiceApi

__all__ = ["load_serve_settings", "serve_command"]


def load_serve_settings(
    options: GlobalOptions,
    out: Output,
    *,
    ctx: typer.Context | None = None,
    db: str | None = None,
    host: str | None = None,
    port: int | None = None,
) -> LoadedSettings:
    """Settings with serve's flags on top, or exit 2 listing every problem."""
    overrides = flag_overrides(options, ctx)
    for key, value, flag in (("oms.db_url", db, "--db"), ("service.host", host, "--host"),
                             ("service.port", port, "--port")):
        if value is not None:
            overrides.append(Override(key, value, f"flag {flag}"))
    try:
        loaded = read_settings(options.config, os.environ, overrides=overrides)
    except ConfigError as exc:
        out.fail(ExitCode.USAGE_OR_CONFIG, f"invalid configuration:\n{exc}")
    for warning in loaded.warnings:
        out.warn(warning)
    return loaded


def _print_defaults(loaded: LoadedSettings, out: Output) -> None:
    out.info("no config file: using the conservative defaults (catalyst-ibkr config check "
             "shows them all):")
    for row in effective_values(loaded):
        if row.section in ("risk", "oms", "service"):
            out.info(f"  [{row.section}] {row.key} = {row.value}")


@asynccontextmanager
async def _already_running(service: ServiceApi) -> AsyncIterator[ServiceApi]:
    yield service


def _listen_socket(host: str, port: int) -> socket.socket:
    """Bind the service's address first (OSError if it cannot be had).

    Before the broker and the journal, so "address in use" costs nothing; and uvicorn,
    handed the bound socket, never has to exit the process on a bind failure.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


async def _serve(loaded: LoadedSettings, runtime: RuntimeOptions, keys: ApiKeys,
                 sock: socket.socket, host: str, out: Output) -> None:
    import uvicorn

    from catalyst_ibkr.api.app import create_app
    from catalyst_ibkr.api.runtime import service_stack
    from catalyst_ibkr.api.server import GracefulServer

    def on_sim(server: object) -> None:
        via = ("its Web API over HTTPS, verified against its certificate "
               f"{getattr(server, 'ca_file', '?')}, IBKR pacing on"
               if runtime.sim_backend == "webapi"
               else f"its TWS socket view on port {getattr(server, 'tws_port', '?')}")
        out.info(f"simulator in this process: {getattr(server, 'base_url', '?')}; "
                 f"trading through {via}")

    async with service_stack(loaded.settings, runtime, on_sim=on_sim) as service:
        out.info(f"journal: {MaskedUrl(runtime.db_url).masked} (migrated)")
        app_ = create_app(lambda: _already_running(service), keys=keys,
                          default_ttl_s=Decimal(str(loaded.settings.oms.default_ttl_s)))
        config = uvicorn.Config(app_, lifespan="on", log_config=None, access_log=False)
        server = GracefulServer(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():  # noqa: ASYNC110 (a flag, no event)
            await asyncio.sleep(0.02)
        if server.started:  # the bound port (--port 0 picks a free one)
            shown = f"[{host}]" if ":" in host else host
            out.info(f"serving on http://{shown}:{sock.getsockname()[1]} "
                     "(docs at /docs; Ctrl-C to stop)")
        await serving


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="Config file (TOML).")] = None,
    gateway: Annotated[str | None, typer.Option(
        "--gateway", help="Gateway URL: https://HOST:PORT (Client Portal / IBeam) or "
                          "tws://HOST:PORT (IB Gateway). Ignored with --sim.")
    ] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="Journal URL (default sqlite:///./catalyst-ibkr.db).")] = None,
    host: Annotated[str | None, typer.Option(
        "--host", help="Address to bind (default 127.0.0.1; others need both keys).")] = None,
    port: Annotated[int | None, typer.Option(
        "--port", help="Port (default 8080; 0 picks a free one and prints it).")] = None,
    sim: Annotated[bool, typer.Option(
        "--sim", help="Run the simulator in this process and trade against it.")] = False,
    sim_backend: Annotated[str, typer.Option(
        "--sim-backend", metavar="webapi|tws",
        help="With --sim: trade through the simulator's Client Portal Web API (HTTPS, its "
             "own certificate, IBKR pacing; the default) or its TWS socket view.")
    ] = "webapi",
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Everything but sending: risk and journal as usual.")] = False,
) -> None:
    """Run the execution service: signals in over HTTP, orders out to IBKR.

    A gateway that is not up yet is waited for (retried with backoff):
    signals are journaled and wait; nothing is sent until it answers.
    """
    from catalyst_ibkr.api.auth import ApiKeys
    from catalyst_ibkr.api.runtime import BrokerNotAvailable, RuntimeOptions
    from catalyst_ibkr.logging import configure_logging
    from catalyst_ibkr.service.journal import JournalUnreadable
    from ibkr_sim.options import DEFAULT_STATE_DIR, SimOptions

    options: GlobalOptions = ctx.obj
    options = replace(options, config=config or options.config,
                      gateway=gateway or options.gateway)
    out = Output(options.json)
    if sim_backend not in ("webapi", "tws"):
        out.fail(ExitCode.USAGE_OR_CONFIG,
                 f"--sim-backend must be webapi or tws, not {sim_backend!r}")
    if sim_backend != "webapi" and not sim:
        out.fail(ExitCode.USAGE_OR_CONFIG,
                 "--sim-backend needs --sim (for a real gateway, --gateway tws://HOST:PORT)")
    # Port 0 (a free port, printed once bound) is for tests and scripts; the config key
    # itself stays 1..65535.
    loaded = load_serve_settings(options, out, ctx=ctx, db=db, host=host,
                                 port=port if port != 0 else None)
    settings = loaded.settings
    problem = service_bind_problem(settings)
    if problem is not None:
        out.fail(ExitCode.USAGE_OR_CONFIG, problem)
    if loaded.path is None:
        _print_defaults(loaded, out)
    try:
        gateway_url = resolve_gateway(options, loaded).url
    except ConfigError as exc:
        out.fail(ExitCode.USAGE_OR_CONFIG, str(exc))
    keys = ApiKeys(
        api_key=settings.service.api_key.get_secret_value() if settings.service.api_key else None,
        admin_key=(settings.service.admin_key.get_secret_value()
                   if settings.service.admin_key else None),
    )
    if not keys.required:
        out.warn("no CATALYST_API_KEY / CATALYST_ADMIN_KEY: anyone on this machine can trade "
                 "through the service (it binds loopback only)")
    runtime = RuntimeOptions(
        db_url=settings.oms.db_url.get_secret_value(),
        gateway_url=gateway_url,
        client_id=settings.gateway.client_id,
        account=resolve_account(options, loaded),
        dry_run=dry_run,
        insecure=options.insecure,
        # the Web API view paces as IBKR does; the socket view has no REST pacing to apply
        sim=replace(SimOptions(), port=0, pacing=sim_backend == "webapi",
                    state_dir=DEFAULT_STATE_DIR)
        if sim else None,
        sim_backend="tws" if sim_backend == "tws" else "webapi",
        wait_for_gateway=True,  # a gateway still starting is waited for (gateway_wait.py)
    )
    if dry_run:
        out.info("dry run: signals are checked and journaled; nothing is sent to IBKR")
    bind_host, bind_port = settings.service.host, 0 if port == 0 else settings.service.port
    try:
        sock = _listen_socket(bind_host, bind_port)
    except OSError as exc:
        out.fail(ExitCode.USAGE_OR_CONFIG, f"cannot listen on {bind_host}:{bind_port}: "
                 f"{exc.strerror or exc} (another process on that port? --port to choose)")
    configure_logging("INFO")
    try:
        asyncio.run(_serve(loaded, runtime, keys, sock, bind_host, out))
    except BrokerNotAvailable as exc:
        out.fail(ExitCode.USAGE_OR_CONFIG, str(exc))
    except InterlockRefused as exc:  # paper/live interlock (service/interlock.py)
        out.fail(ExitCode.USAGE_OR_CONFIG, str(exc))
    except JournalUnreadable as exc:  # damaged/unreachable journal: refuse, say why
        out.fail(ExitCode.USAGE_OR_CONFIG, str(exc))
    except BrokerMisconfigured as exc:  # the gateway answered; our settings do not fit it
        out.fail(ExitCode.USAGE_OR_CONFIG, f"gateway at {gateway_url}: {exc}")
    except BrokerUnavailable as exc:
        out.fail(ExitCode.GATEWAY_UNAVAILABLE, f"gateway unavailable at {gateway_url}: {exc}")
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    out.info("stopped")
