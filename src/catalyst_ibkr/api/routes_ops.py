"""`GET /metrics` (Prometheus). (`GET /` is the dashboard: `api/dashboard/`.)

Metrics are the service's registry (names prefixed `catalyst_`) plus the HTTP layer's own
request counter and latency histogram, registered on the same registry so one scrape
shows both. /metrics is outside /v1 and needs no key; it shows counts, not orders.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalyst_ibkr.api.deps import Service

__all__ = ["CountRequests", "HttpMetrics", "router"]

router = APIRouter(tags=["ops"])


class HttpMetrics:
    """Requests by route template (never the raw path: ids would explode the label set)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "catalyst_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "catalyst_http_request_duration_seconds",
            "Time to answer an HTTP request (streams: time to the first byte).",
            ("method", "route"),
            registry=registry,
        )



class CountRequests:
    """A plain ASGI middleware (not BaseHTTPMiddleware: it must not buffer SSE streams).

    It finds the `HttpMetrics` on `app.state.http_metrics`, set once the service (and its
    registry) exists in the lifespan; requests before that are not counted.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        metrics: HttpMetrics | None = getattr(scope["app"].state, "http_metrics", None)
        if metrics is None:
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                method = str(scope.get("method", "?"))
                metrics.requests.labels(method, template, str(status[0])).inc()
                metrics.latency.labels(method, template).observe(
                    time.perf_counter() - started
                )
            await send(message)

        await self._app(scope, receive, counting_send)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (catalyst_*)")
async def metrics(service: Service) -> Response:
    return Response(generate_latest(service.metrics), media_type=CONTENT_TYPE_LATEST)
