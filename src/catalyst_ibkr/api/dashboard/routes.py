"""``GET /`` (the dashboard), its two static files, and ``GET /v1/watchdog``.

Why these are separate from the API's routes: the page is plain files read from the package
(no template engine, no CDN, nothing fetched from the internet), and ``/v1/watchdog`` is the
one read the dashboard needs that the ExecutionService does not offer: the watchdog's health
model, the paper/live interlock, the pacing headroom per endpoint and recent alerts.

The page itself is public (it holds no data); every ``/v1`` read it makes sends the API key
the operator typed in, kept in the tab's sessionStorage only; the kill switch and trading
state changes ask for the admin key each time and never store it.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from catalyst_ibkr.api.auth import Caller
from catalyst_ibkr.service.watchdog.runtime import ops_for

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


def _read(name: str) -> str:
    return (resources.files(__package__) / "static" / name).read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def dashboard() -> HTMLResponse:
    return HTMLResponse(_read("index.html"), headers=_HEADERS)


@router.get("/dashboard/{name}")
async def static_file(name: str) -> Response:
    media = _STATIC.get(name)
    if media is None:
        raise HTTPException(404, f"no dashboard file {name!r}")
    return Response(_read(name), media_type=media, headers=_HEADERS)


@router.get("/v1/watchdog", include_in_schema=True, tags=["ops"],
            summary="Gateway health (watchdog), paper/live interlock, pacing headroom, alerts")
async def watchdog(request: Request, _caller: Caller) -> JSONResponse:
    service = getattr(request.app.state, "service", None)
    ops = ops_for(service) if service is not None else None
    body: dict[str, Any]
    if ops is None:
        body = {"mode": None, "account": None, "interlock": None, "watchdog": None,
                "pacing": [], "alerts": [], "webhook": None,
                "detail": "operations (watchdog, interlock) are not running in this process"}
    else:
        body = await ops.snapshot()
    return JSONResponse(body)
