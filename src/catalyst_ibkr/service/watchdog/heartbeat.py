"""Websocket heartbeat age: a silent gateway websocket is a failure TCP does not report.

The gateway sends a ``system`` heartbeat about every 10 s. The order stream of the Web API
adapter reconnects on silence by itself; the watchdog only needs to *know* how old the last
frame is, to show it and to alert when silence outlasts ``ws_stale_s``. The source is any
zero-argument callable returning the time of the last frame (``heartbeat_of`` finds one on
an adapter's stream); ``WsHeartbeatProbe`` is a stand-alone read-only listener for setups
where the broker exposes none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

__all__ = ["HeartbeatSource", "WsHeartbeatProbe", "heartbeat_of"]

log = logging.getLogger(__name__)

#: Returns when the last websocket frame arrived (aware UTC), or None if none yet.
HeartbeatSource = Callable[[], datetime | None]


def heartbeat_of(obj: object) -> HeartbeatSource | None:
    """A heartbeat source from an object with a ``last_frame_at`` attribute, if it has one."""
    if not hasattr(obj, "last_frame_at"):
        return None

    def read() -> datetime | None:
        value = getattr(obj, "last_frame_at", None)
        return value if isinstance(value, datetime) else None

    return read


class WsHeartbeatProbe:
    """Listens on ``/v1/api/ws`` and records when each frame arrives; reconnects with backoff.

    It subscribes to nothing, so it only ever receives heartbeats and session status; the
    ``session`` cookie is read from ``session_id`` (the tickle answer's secret), never logged.
    """

    def __init__(
        self,
        gateway_url: str,
        *,
        session_id: Callable[[], Awaitable[str | None]],
        ssl_context: ssl.SSLContext | None,
        reconnect_max_s: float = 10.0,
    ) -> None:
        base = gateway_url.rstrip("/")
        self.url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + (
            "/v1/api/ws"
        )
        self._session_id = session_id
        self._ssl = ssl_context if self.url.startswith("wss://") else None
        self._reconnect_max_s = reconnect_max_s
        self.last_frame_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def __call__(self) -> datetime | None:
        return self.last_frame_at

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="watchdog-ws-heartbeat")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen()
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except (OSError, WebSocketException, TimeoutError) as exc:
                log.debug("heartbeat probe websocket closed: %s", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max_s)

    async def _listen(self) -> None:
        session = await self._session_id()
        if not session:
            raise OSError("no gateway session for the websocket yet")
        async with connect(
            self.url,
            ssl=self._ssl,
            additional_headers={"Cookie": f"api={session}"},
            open_timeout=10,
            ping_interval=None,
            proxy=None,
        ) as ws:
            async for _frame in ws:
                self.last_frame_at = datetime.now(UTC)
