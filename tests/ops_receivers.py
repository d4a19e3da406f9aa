"""Loopback stand-ins for the outside systems the watchdog talks to (real aiohttp servers).

- ``WebhookReceiver``: records every JSON POST (the alert webhook).
- ``FakeIBeamHealth``: IBeam's health server (``/livez``, ``/readyz``, ``/activate``),
  answering ``/readyz`` from a callable and recording calls.
- ``FakeDockerEngine``: the slice of the Docker Engine API that ``docker`` SDK's
  ``containers.get(name).restart()`` uses (version probe, inspect, restart), recording calls
  and running a hook on restart (tests make the simulator "log in again" there).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None


@dataclass
class LoopbackServer:
    app: web.Application
    calls: list[Recorded] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LoopbackServer:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def webhook_receiver(status: int = 200) -> LoopbackServer:
    server = LoopbackServer(web.Application())

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        server.calls.append(Recorded(request.method, request.path, dict(request.query), body))
        return web.Response(status=status, text="ok")

    server.app.router.add_post("/{tail:.*}", hook)
    return server


def fake_ibeam_health(ready: Callable[[], bool]) -> LoopbackServer:
    server = LoopbackServer(web.Application())

    async def handle(request: web.Request) -> web.Response:
        server.calls.append(Recorded(request.method, request.path, dict(request.query)))
        if request.path == "/livez":
            return web.Response(text="OK")
        if request.path == "/readyz":
            ok = ready()
            return web.Response(status=200 if ok else 503, text="OK" if ok else "NOT READY")
        if request.path == "/activate":
            return web.Response(text="OK")
        return web.Response(status=404)

    server.app.router.add_get("/{tail:.*}", handle)
    return server


def fake_docker_engine(
    container: str, on_restart: Callable[[], None] | None = None
) -> LoopbackServer:
    """Docker Engine API paths carry a version prefix (``/v1.47/...``); accept any."""
    server = LoopbackServer(web.Application())

    def inspect_body() -> dict[str, Any]:
        return {
            "Id": "c0ffee" * 10 + "abcd",
            "Name": f"/{container}",
            "State": {"Status": "running", "Running": True},
            "Config": {"Image": "voyzdev/ibeam:latest", "Labels": {}},
            "Image": "sha256:" + "0" * 64,
        }

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        server.calls.append(
            Recorded(request.method, request.path, dict(request.query), body.decode() or None)
        )
        path = request.path
        parts = [p for p in path.split("/") if p]
        if parts and parts[0].startswith("v1."):
            parts = parts[1:]
        if parts == ["version"]:
            return web.json_response({"ApiVersion": "1.47", "Version": "27.0.0"})
        if parts == ["_ping"]:
            return web.Response(text="OK")
        if len(parts) == 3 and parts[0] == "containers" and parts[2] == "json":
            if parts[1] != container:
                return web.json_response({"message": f"No such container: {parts[1]}"}, 404)
            return web.json_response(inspect_body())
        if (
            len(parts) == 3
            and parts[0] == "containers"
            and parts[1] == container
            and parts[2] == "restart"
        ):
            if request.method != "POST":
                return web.Response(status=405)
            if on_restart is not None:
                on_restart()
            return web.Response(status=204)
        return web.Response(
            status=403, text=json.dumps({"message": "forbidden by the socket proxy"})
        )

    server.app.router.add_route("*", "/{tail:.*}", handle)
    return server
