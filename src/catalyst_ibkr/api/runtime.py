"""The service's composition for `serve` and the demo: (simulator) -> broker -> service.

Why here and not in each command: `serve --sim`, the demo and the tests must build the
same stack in the same order and tear it down in reverse (service stopped before the broker
closes, the broker before the simulator), whatever fails half-way.

Broker choice by gateway URL is `adapters.factory.make_broker`'s: `https://` / `http://`
the Client Portal Web API (IBeam), `tws://HOST:PORT` the TWS socket API. `--sim` runs
`ibkr_sim` in this process and, by default, trades through its Web API over HTTPS - the
project's primary path - verified against exactly the simulator's own generated certificate
(its file becomes `[gateway] ca_file`; never `--insecure`) with the simulator pacing as IBKR
does. `sim_backend="tws"` opts into the simulator's TWS socket view on a free port instead
(both views share the simulator's one book).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal

from catalyst_ibkr.api.gateway_wait import GatewayWait
from catalyst_ibkr.config.secrets import MaskedUrl
from catalyst_ibkr.config.settings import Settings
from catalyst_ibkr.ports.broker import Broker, BrokerMisconfigured, BrokerUnavailable
from catalyst_ibkr.service.alerts import Alerter
from catalyst_ibkr.service.bootstrap import build_service
from catalyst_ibkr.service.facade import ExecutionService
from catalyst_ibkr.service.watchdog.runtime import guard_broker, ops_stack
from ibkr_sim.options import SimOptions
from ibkr_sim.server import SimServer

__all__ = [
    "SIM_BACKENDS",
    "BrokerNotAvailable",
    "RuntimeOptions",
    "SimBackend",
    "open_broker",
    "service_stack",
]

SimBackend = Literal["webapi", "tws"]
#: The simulator's two views; the first is the default (the product's primary path).
SIM_BACKENDS: tuple[SimBackend, ...] = ("webapi", "tws")


class BrokerNotAvailable(Exception):
    """No Broker adapter can serve this gateway URL (the message says what to use)."""


@dataclass(frozen=True)
class RuntimeOptions:
    """What `serve` / the demo decided: where the journal is, which gateway, sim or not."""

    db_url: str
    gateway_url: str
    client_id: int = 1
    account: str | None = None
    dry_run: bool = False
    insecure: bool = False
    sim: SimOptions | None = None
    sim_backend: SimBackend = "webapi"
    #: `serve`: a gateway not usable at start is retried in the background (gateway_wait.py)
    #: instead of failing the start; the demo and one-shot commands fail fast.
    wait_for_gateway: bool = False


async def open_broker(settings: Settings, options: RuntimeOptions,
                      url: str) -> tuple[Broker, GatewayWait | None]:
    """A started Broker for `url` (BrokerUnavailable from the adapter if it cannot connect),
    or, with `options.wait_for_gateway`, the adapter not started yet and the `GatewayWait`
    that keeps starting it (the caller closes it before the broker)."""
    from catalyst_ibkr.adapters.factory import make_broker

    try:
        broker = make_broker(url, settings, account=options.account,
                             client_id=options.client_id, insecure=options.insecure)
    except ValueError as exc:
        raise BrokerNotAvailable(str(exc)) from None
    starter: Any = getattr(broker, "start", None)
    if starter is not None:
        try:
            await starter()  # keepalive and event stream on: the service lives on them
        except BrokerUnavailable as exc:
            if options.wait_for_gateway and not isinstance(exc, BrokerMisconfigured):
                wait = GatewayWait(starter, MaskedUrl(url).masked, exc)
                wait.begin()
                return broker, wait
            await _close(broker)
            raise
        except BaseException:
            await _close(broker)
            raise
    return broker, None


async def _close(broker: Broker) -> None:
    closer: Any = getattr(broker, "close", None)
    if closer is not None:
        await closer()


def sim_gateway(server: SimServer, settings: Settings,
                backend: SimBackend) -> tuple[str, Settings]:
    """The URL (and settings) to trade against the in-process simulator's `backend` view.

    Web API: the simulator's https URL, trusting exactly its generated certificate (the
    certificate is its own CA, so it is the `ca_file`); a `--no-tls` simulator is plain http.
    """
    if backend == "tws":
        return f"tws://127.0.0.1:{server.tws_port}", settings
    if server.ca_file is None:
        return server.base_url, settings
    gateway = settings.gateway.model_copy(update={"ca_file": server.ca_file})
    return server.base_url, settings.model_copy(update={"gateway": gateway})


@asynccontextmanager
async def service_stack(
    settings: Settings,
    options: RuntimeOptions,
    *,
    on_sim: Callable[[SimServer], None] | None = None,
) -> AsyncIterator[ExecutionService]:
    """Enter: a started service (migrated, journal loaded). Exit: everything closed."""
    async with AsyncExitStack() as stack:
        url = options.gateway_url
        if options.sim is not None:
            server = SimServer(replace(options.sim, tws_port=options.sim.tws_port or 0))
            await server.start()
            stack.push_async_callback(server.stop)
            if on_sim is not None:
                on_sim(server)
            url, settings = sim_gateway(server, settings, options.sim_backend)
        broker, waiting = await open_broker(settings, options, url)
        closer = getattr(broker, "close", None)  # adapters own a connection; the port says not
        if closer is not None:
            stack.push_async_callback(closer)
        if waiting is not None:
            stack.push_async_callback(waiting.aclose)  # stop retrying before the close
        # operations (issue 8): the paper/live interlock wraps the broker (raises
        # InterlockRefused before anything is sent); the watchdog runs beside the service
        alerter = Alerter(settings.alerts)
        guarded = guard_broker(settings, broker, alerter)
        service = build_service(
            settings, broker=guarded, db_url=options.db_url, dry_run=options.dry_run
        )
        await service.start()
        stack.push_async_callback(service.stop)
        await stack.enter_async_context(
            ops_stack(settings, broker=guarded, service=service, alerter=alerter,
                      gateway_started=None if waiting is None else waiting.started)
        )
        yield service
