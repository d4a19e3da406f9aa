"""`POST /v1/signals` answered before FastAPI's routing and dependency solving.

Why: intake is the one request that comes in bursts of thousands per second, and profiling
the running service showed FastAPI's per-request machinery (walking the routers, solving
the route's dependencies, wrapping it in its exception layers) at about a third of the
CPU an accepted signal costs, more than journaling it. This middleware recognises exactly
that request and runs `routes_signals.accept_signal`, the same code the route runs; errors
are answered by the app's own exception handlers (api/problems.py), so the answers are the
route's to the byte. Everything else goes to the app untouched. It sits inside
`CountRequests`, with the route set in the scope, so the metrics still see the route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from catalyst_ibkr.api.routes_signals import accept_signal, router

__all__ = ["SignalIntakePath"]

_PATH = "/v1/signals"

Handler = Callable[[Request, Exception], Awaitable[Response]]


class SignalIntakePath:
    """ASGI middleware: `POST /v1/signals` (no root path) straight to `accept_signal`."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._route = _intake_route()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != _PATH
                or scope.get("root_path")):
            await self._app(scope, receive, send)
            return
        app = scope["app"]
        scope["route"] = self._route
        request = Request(scope, receive)
        try:
            response: Response = await accept_signal(request)
        except Exception as exc:
            handler = _handler_for(app.exception_handlers, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def _intake_route() -> BaseRoute:
    """The route this path stands in for (its template labels the request metrics)."""
    for route in router.routes:
        if getattr(route, "path", None) == _PATH and "POST" in getattr(route, "methods", ()):
            return route
    raise LookupError(f"routes_signals declares no POST {_PATH}")


def _handler_for(handlers: Mapping[Any, Handler], exc: Exception) -> Handler | None:
    """The app's handler for `exc`, the most specific first (as Starlette picks it)."""
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None
