"""The last resort: restart the IBeam container through the Docker Engine API.

Why through a socket proxy: the Docker socket is root on the host. The trading service never
mounts it; it talks to ``wollomatic/socket-proxy`` (deploy/docker-compose.yml), which only
forwards ``GET /version`` and ``POST /containers/<ibeam>/restart`` for the one IBeam
container name. So this module restarts by *name* through the low-level API (the high-level
``container.restart()`` would first inspect the container and then address it by id, which
the proxy rightly refuses).

The ``docker`` SDK is synchronous; each call runs in a worker thread so the event loop (and
order handling) never blocks on it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DockerRestarter", "RestartResult", "docker_base_url"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestartResult:
    ok: bool
    detail: str


def docker_base_url(url: str) -> tuple[str, bool]:
    """The SDK's ``tcp://host:port`` for an ``http(s)://`` proxy URL, and whether it is TLS."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} must be http://host:port or https://host:port")
    port = parts.port or (2376 if parts.scheme == "https" else 2375)
    return f"tcp://{parts.hostname}:{port}", parts.scheme == "https"


class DockerRestarter:
    """Restarts one named container; ``stop_timeout_s`` is Docker's grace before SIGKILL."""

    def __init__(
        self, url: str, container: str, *, stop_timeout_s: int = 20, timeout_s: float = 90.0
    ) -> None:
        self.url = url
        self.container = container
        self.stop_timeout_s = stop_timeout_s
        self.timeout_s = timeout_s
        self.base_url, self.tls = docker_base_url(url)

    def _restart_blocking(self) -> None:
        import docker

        client: Any = docker.APIClient(
            base_url=self.base_url,
            version="auto",
            timeout=int(self.timeout_s),
            tls=self.tls,
        )
        try:
            client.restart(self.container, timeout=self.stop_timeout_s)
        finally:
            client.close()

    async def restart(self) -> RestartResult:
        try:
            await asyncio.to_thread(self._restart_blocking)
        except Exception as exc:  # the SDK raises requests/docker errors of many kinds
            message = getattr(getattr(exc, "response", None), "status_code", None)
            detail = f"restart of {self.container} via {self.url} failed: {type(exc).__name__}"
            if message is not None:
                detail += f" (HTTP {message})"
            log.warning("%s", detail)
            return RestartResult(False, detail)
        log.warning("restarted container %s via %s", self.container, self.url)
        return RestartResult(True, f"container {self.container} restarted")
