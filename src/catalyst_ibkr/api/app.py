"""`create_app`: the FastAPI application around one ExecutionService.

Why a factory that takes a *service context* instead of a built service: nothing may
connect or open the journal at import or app construction; the lifespan enters the
context (which builds the broker and the service, migrates, starts workers) and leaves it
on shutdown. `serve`, the demo and the tests differ only in the context they pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal

from fastapi import FastAPI

from catalyst_ibkr.api import routes_events, routes_ops, routes_orders, routes_signals, routes_state
from catalyst_ibkr.api.auth import ApiKeys
from catalyst_ibkr.api.dashboard import router as dashboard_router
from catalyst_ibkr.api.intake_path import SignalIntakePath
from catalyst_ibkr.api.problems import install_handlers
from catalyst_ibkr.api.routes_ops import CountRequests, HttpMetrics
from catalyst_ibkr.api.service_api import ServiceApi

__all__ = ["ApiKeys", "ServiceContext", "create_app", "running"]

#: Enter -> a started service; exit -> stopped and every resource released.
ServiceContext = Callable[[], AbstractAsyncContextManager[ServiceApi]]


@asynccontextmanager
async def running(service: ServiceApi) -> AsyncIterator[ServiceApi]:
    """Start `service` on enter and stop it on exit (the common service context)."""
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def create_app(
    service_context: ServiceContext,
    *,
    keys: ApiKeys | None = None,
    default_ttl_s: Decimal | None = None,
) -> FastAPI:
    """The app. `keys` None or empty: no key needed (loopback only; `serve` enforces it).
    `default_ttl_s`: `[oms] default_ttl_s`, for signals sent without `ttl_s` (None: the
    core's 60 s)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_context() as service:
            app.state.http_metrics = HttpMetrics(service.metrics)
            app.state.service = service
            try:
                yield
            finally:
                app.state.service = None

    app = FastAPI(
        title="catalyst-ibkr",
        summary="Execution gateway from trading signals to Interactive Brokers",
        description=(
            "Signals in, orders out, positions and risk watched. Money and quantities are "
            "decimal strings in answers (numbers or strings accepted in requests). "
            "Send `Authorization: Bearer KEY` when the service has keys. See docs/service.md."
        ),
        version="1",
        lifespan=lifespan,
    )
    app.state.keys = keys if keys is not None else ApiKeys()
    app.state.default_ttl_s = default_ttl_s
    app.state.service = None
    install_handlers(app)
    app.add_middleware(SignalIntakePath)  # added first: inside CountRequests
    app.add_middleware(CountRequests)
    app.include_router(dashboard_router)  # GET / is the dashboard
    for module in (routes_signals, routes_orders, routes_state, routes_events, routes_ops):
        app.include_router(module.router)
    return app
