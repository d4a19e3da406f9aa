"""The intake fast path answers `POST /v1/signals` exactly as the FastAPI route does.

The fast path (api/intake_path.py) skips FastAPI's routing and dependency solving for the
busiest request. Its promise is "the route's answers to the byte", so every kind of answer
the route gives (202, duplicate, 409, 413, 422, 401, 503 and the neighbours it must leave
to the app) is sent to two apps over real sockets, one with the fast path and one without,
and the answers are compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
from api_fakes import FakeService
from api_server import serve_in_thread
from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from catalyst_ibkr.api import ApiKeys, create_app
from catalyst_ibkr.api.app import running
from catalyst_ibkr.api.intake_path import SignalIntakePath
from conftest import API_KEY

BODY = {"id": "p-1", "symbol": "AAPL", "side": "BUY", "quantity": "10",
        "order_type": "LMT", "limit_price": "190.50"}
AUTH = {"Authorization": f"Bearer {API_KEY}"}

#: (method, path, headers, raw body): run in this order against both apps
REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("POST", "/v1/signals", AUTH, json.dumps(BODY).encode()),
    ("POST", "/v1/signals", AUTH, json.dumps(BODY).encode()),  # duplicate: first answer
    ("POST", "/v1/signals", AUTH, json.dumps({**BODY, "quantity": "11"}).encode()),  # 409
    ("POST", "/v1/signals", AUTH, b"{not json"),
    ("POST", "/v1/signals", AUTH, json.dumps({**BODY, "id": "p-2", "colour": "red"}).encode()),
    ("POST", "/v1/signals", AUTH, json.dumps({**BODY, "id": "p-3", "quantity": "NaN"}).encode()),
    ("POST", "/v1/signals", {**AUTH, "Idempotency-Key": "other"},
     json.dumps({**BODY, "id": "p-4"}).encode()),
    ("POST", "/v1/signals", AUTH, b'{"id": "' + b"x" * 70_000 + b'"}'),  # 413
    ("POST", "/v1/signals", {}, json.dumps({**BODY, "id": "p-5"}).encode()),  # no key
    ("POST", "/v1/signals", {"Authorization": "Bearer wrong"},
     json.dumps({**BODY, "id": "p-6"}).encode()),
    ("POST", "/v1/signals", {**AUTH, "Idempotency-Key": "p-7"},
     json.dumps({**BODY, "id": "p-7", "ttl_s": "30"}).encode()),
    ("GET", "/v1/signals/p-1", AUTH, b""),  # the app's, both times
    ("PUT", "/v1/signals", AUTH, b"{}"),  # 405 from the app
    ("POST", "/v1/signals/", AUTH, json.dumps(BODY).encode()),  # not the exact path
]


def _answer(response: httpx.Response) -> tuple[Any, ...]:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict) and body.get("received_at"):
        body = {k: v for k, v in body.items() if k not in ("received_at", "expires_at")}
    headers = {k: response.headers.get(k) for k in
               ("content-type", "location", "www-authenticate", "allow")}
    if headers["location"]:  # a redirect names the server it came from: keep the path
        headers["location"] = httpx.URL(headers["location"]).path
    return response.status_code, headers, body


class _Behind:
    """Innermost middleware: the requests that got past the fast path to the app."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _Behind.seen.append((scope["method"], scope["path"]))
        await self._app(scope, receive, send)


@contextmanager
def _app(fast: bool) -> Iterator[tuple[httpx.Client, FastAPI]]:
    fake = FakeService()
    app = create_app(lambda: running(fake), keys=ApiKeys(api_key=API_KEY))
    if not fast:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not SignalIntakePath]
    app.user_middleware.append(Middleware(_Behind))  # the last one is the innermost
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, app


def _run_all(client: httpx.Client) -> list[tuple[Any, ...]]:
    return [_answer(client.request(method, path, headers=headers, content=body))
            for method, path, headers, body in REQUESTS]


def test_every_answer_is_the_routes_answer() -> None:
    _Behind.seen.clear()
    with _app(fast=True) as (client, _):
        fast = _run_all(client)
    # the fast path answered every POST /v1/signals itself; the rest went on to the app
    assert ("POST", "/v1/signals") not in _Behind.seen
    assert {("GET", "/v1/signals/p-1"), ("PUT", "/v1/signals"),
            ("POST", "/v1/signals/")} <= set(_Behind.seen)
    with _app(fast=False) as (client, _):
        routed = _run_all(client)
    for request, got, want in zip(REQUESTS, fast, routed, strict=True):
        assert got == want, f"{request[0]} {request[1]} {request[3][:60]!r}"
    statuses = [answer[0] for answer in fast]
    assert statuses[:11] == [202, 202, 409, 422, 422, 422, 422, 413, 401, 401, 202]


def test_a_service_not_up_yet_is_the_same_503_before_any_key_check() -> None:
    answers = []
    for fast in (True, False):
        with _app(fast) as (client, app):
            service, app.state.service = app.state.service, None  # as during start-up
            try:
                answers.append(_answer(client.post("/v1/signals", json=BODY)))  # no key
            finally:
                app.state.service = service
    assert answers[0] == answers[1] and answers[0][0] == 503
