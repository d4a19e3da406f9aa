"""A small synchronous websocket client for the sim's ``/v1/api/ws`` (real loopback TLS)."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from sim_fixtures import RunningSim

Frame = dict[str, Any]


def session_id(sim: RunningSim) -> str:
    with sim.client() as c:
        sid: str = c.post("/v1/api/tickle").json()["session"]
    return sid


def ws_url(sim: RunningSim) -> str:
    return sim.api_url.replace("https://", "wss://").replace("http://", "ws://") + "/ws"


def open_ws(sim: RunningSim, cookie: str | None = "plain") -> ClientConnection:
    """Connect; ``cookie`` is ``"plain"`` (``api=<id>``), ``"json"`` (ibind's form) or None."""
    headers: dict[str, str] = {}
    if cookie is not None:
        sid = session_id(sim)
        value = sid if cookie == "plain" else json.dumps({"session": sid})
        headers["Cookie"] = f"api={value}"
    ctx = ssl.create_default_context(cafile=str(sim.ca_file)) if sim.ca_file else None
    return connect(ws_url(sim), ssl=ctx, additional_headers=headers, proxy=None,
                   open_timeout=10)


def recv(ws: ClientConnection, timeout: float = 5.0) -> Frame | None:
    """The next JSON frame, or None when nothing arrives within ``timeout``."""
    try:
        raw = ws.recv(timeout=timeout)
    except TimeoutError:
        return None
    frame: Frame = json.loads(raw)
    return frame


def burst(ws: ClientConnection) -> list[Frame]:
    frames = [recv(ws) for _ in range(3)]
    assert all(f is not None for f in frames), frames
    return [f for f in frames if f is not None]


def wait_for(ws: ClientConnection, match: Callable[[Frame], bool], timeout: float = 5.0,
             seen: list[Frame] | None = None) -> Frame:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; saw {seen}")
        frame = recv(ws, left)
        if frame is None:
            continue
        if seen is not None:
            seen.append(frame)
        if match(frame):
            return frame


def barrier(ws: ClientConnection) -> None:
    """Return once the sim has handled everything sent before: its ``tic`` answer queues
    behind every frame it pushed earlier, so what it sent before is read and discarded."""
    ws.send("tic")
    wait_for(ws, topic("tic"))


def collect(ws: ClientConnection, seconds: float) -> list[Frame]:
    """Every frame that arrives in the next ``seconds`` (real time)."""
    out: list[Frame] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        frame = recv(ws, left)
        if frame is not None:
            out.append(frame)
    return out


def topic(name: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("topic") == name


def is_closed(ws: ClientConnection, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return False
        except ConnectionClosed:
            return True
    return False
