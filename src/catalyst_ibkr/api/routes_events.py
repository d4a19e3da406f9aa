"""`GET /v1/events`: server-sent events of signal, order, fill and health changes.

Every event carries its journal number as the SSE `id`, so a client that reconnects with
`Last-Event-ID: N` (browsers do this by themselves) gets every event after N and misses
nothing. A comment line every `keepalive_s` keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from catalyst_ibkr.api.auth import Caller
from catalyst_ibkr.api.deps import Service
from catalyst_ibkr.api.encode import jsonable
from catalyst_ibkr.api.service_api import ServiceApi
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.service.views import ServiceEvent

__all__ = ["KEEPALIVE_S", "format_event", "router"]

router = APIRouter(prefix="/v1", tags=["events"])

KEEPALIVE_S = 15.0


def format_event(event: ServiceEvent) -> str:
    # The event's own fields nested under "data": they may use "id" or "kind" themselves.
    data = {"id": event.id, "kind": event.kind, "at": jsonable(event.at),
            "data": jsonable(event.data)}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {text}\n\n"


def _last_id(header: str | None, query: int | None) -> int | None:
    if header is None or not header.strip():
        return query
    text = header.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidInput("Last-Event-ID", f"{header[:40]!r} is not an event number")
    return int(text)


async def _stream(service: ServiceApi, last_id: int | None) -> AsyncIterator[str]:
    events = service.subscribe_events(last_id).__aiter__()
    yield "retry: 2000\n\n"
    pending: asyncio.Future[ServiceEvent] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_S)
            if not done:
                yield ": keepalive\n\n"
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            yield format_event(event)
    finally:
        if pending is not None:
            pending.cancel()
        closer = getattr(events, "aclose", None)
        if closer is not None:
            with contextlib.suppress(RuntimeError, asyncio.CancelledError):
                await closer()


@router.get(
    "/events",
    summary="Server-sent events; resume with Last-Event-ID",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    service: Service,
    _caller: Caller,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Same as Last-Event-ID")] = None,
) -> StreamingResponse:
    start = _last_id(last_event_id, after)
    return StreamingResponse(
        _stream(service, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
