"""The aiohttp application: one middleware that plays the gateway's front door.

For every Client Portal request (``/v1/api/...`` and ``/v1/portal/...``) the middleware, in
this order: lets due timers fire and the engine step; counts the request for pacing (429 and
the penalty box); discards pending order replies unless this is a reply; keeps the session
alive; applies injected faults; then runs the route and turns :class:`ApiError` into IBKR's
error shape.  Unknown routes get the gateway's 404 HTML page.  The control API (``/sim/...``)
bypasses all of it: it is never paced, counted or faulted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import web

from ibkr_sim.state import SimState
from ibkr_sim.web import (
    control,
    routes_contracts,
    routes_history,
    routes_marketdata,
    routes_modify,
    routes_orders,
    routes_portfolio,
    routes_session,
    ws,
)
from ibkr_sim.web.errors import ApiError, error_response, json_response, not_found_response
from ibkr_sim.web.routing import PREFIXES, STATE_KEY, api_path

__all__ = ["build_app"]

log = logging.getLogger("ibkr_sim")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_GATEWAY_HEADERS = {
    "Cache-Control": "max-age=0, no-cache, no-store",
    "Pragma": "no-cache",
    "Vary": "Origin",
}


def _needs_length(request: web.Request) -> bool:
    if request.method not in ("POST", "PUT"):
        return False
    if "Content-Length" in request.headers:
        return False
    return "chunked" not in request.headers.get("Transfer-Encoding", "").lower()


async def _dispatch(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return not_found_response()


@web.middleware
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path == "/sim" or request.path.startswith("/sim/"):
        return await _control_dispatch(request, handler)
    started = time.perf_counter()
    state: SimState = request.app[STATE_KEY]
    try:
        response = await _gateway(request, handler, state)
    except Exception:  # a bug, not bad input: never leak a traceback to the client
        log.exception("internal error on %s %s", request.method, request.path)
        response = json_response({"error": "Internal Server Error", "statusCode": 500}, 500)
    for key, value in _GATEWAY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers["x-response-time"] = f"{int((time.perf_counter() - started) * 1000)}ms"
    return response


async def _control_dispatch(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await _dispatch(request, handler)
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        return json_response({"error": "Internal Server Error"}, 500)


async def _gateway(request: web.Request, handler: Handler, state: SimState) -> web.StreamResponse:
    state.step()
    path = api_path(request.path)
    address = request.remote or "unknown"
    paced = path or request.path
    if len(paced) > 1 and paced.endswith("/"):
        paced = paced[:-1]  # a trailing slash is the same endpoint, with the same limit
    decision = state.pacer.check(address, request.method, paced)
    if not decision.allowed:
        return json_response({"error": "Too Many Requests", "statusCode": 429}, 429)
    if path is None:
        return not_found_response()
    if not path.startswith("/iserver/reply/"):
        state.invalidate_pending_replies()
    if state.session.portal:
        state.session.touch()
    if _needs_length(request):
        return web.Response(status=411, text="Length Required")
    full = request.path
    latency = state.faults.take("latency", full)
    if latency is not None and latency.ms:
        # The request has fully arrived before the gateway sits on it (as a slow IBKR would):
        # a client that gives up or dies meanwhile still gets its order placed, which is the
        # case the caller's in-doubt handling exists for.
        if request.can_read_body:
            await request.read()
        await asyncio.sleep(latency.ms / 1000)
    failure = state.faults.take("http_error", full)
    if failure is not None and failure.status is not None:
        if failure.status == 429:
            state.pacer.record_429(address)
        return _http_error(failure.status, failure.body)
    drop = state.faults.take("drop_after_accept", full)
    response = await _dispatch(request, handler)
    if drop is not None:
        # The request had its normal effect; now the client sees the connection die.
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    return response


def _http_error(status: int, body: str | None) -> web.Response:
    if body is not None:
        return web.Response(status=status, text=body, content_type="application/json")
    if status == 500:
        return web.Response(status=500, text="Internal Server Error", content_type="text/plain")
    if status == 503:
        return web.Response(status=503, text="Service Unavailable", content_type="text/plain")
    return json_response({"error": HTTPStatus(status).phrase, "statusCode": status}, status)


def build_app(state: SimState) -> web.Application:
    """The whole simulator as an aiohttp application (no socket is opened here)."""
    app = web.Application(middlewares=[gateway_middleware])
    app[STATE_KEY] = state
    table = web.RouteTableDef()
    for module in (
        routes_session,
        routes_portfolio,
        routes_contracts,
        routes_marketdata,
        routes_orders,
        routes_modify,
        routes_history,
    ):
        for method, path, handler in module.ROUTES:
            for prefix in PREFIXES:
                table.route(method, prefix + path)(handler)
                # ibind calls e.g. iserver/account/trades/ and the real gateway answers it:
                # a trailing slash names the same endpoint.
                table.route(method, prefix + path + "/")(handler)
    for method, path, handler in control.ROUTES:
        table.route(method, path)(handler)
    app.add_routes(table)
    ws.install(app)
    app.router.add_route("*", "/{tail:.*}", _fallback)
    return app


async def _fallback(request: web.Request) -> web.StreamResponse:
    return not_found_response()
