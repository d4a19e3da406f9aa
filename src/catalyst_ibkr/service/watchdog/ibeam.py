"""IBeam's own health server (port 5001 in the container): the watchdog's second step.

IBeam (voyzdev/ibeam) serves ``GET /livez`` (the process runs), ``GET /readyz`` (200 only
while the gateway session is authenticated, else 503) and ``GET /activate`` (asks IBeam to
run its authentication/maintenance now). The first step (reauthenticating through the
gateway) cannot help when the *portal* session is gone: only IBeam holds the credentials and
can log in again, so we ask it to, before anything as blunt as a container restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

__all__ = ["IBeamHealthClient", "IBeamProbe"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IBeamProbe:
    """What IBeam's health server said. ``live`` None: it did not answer at all."""

    live: bool | None
    ready: bool | None
    detail: str = ""


class IBeamHealthClient:
    """A tiny client for IBeam's health server (plain HTTP inside the compose network)."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)

    async def probe(self) -> IBeamProbe:
        try:
            live = await self._http.get("/livez")
            ready = await self._http.get("/readyz")
        except httpx.HTTPError as exc:
            return IBeamProbe(None, None, f"IBeam health server unreachable ({type(exc).__name__})")
        return IBeamProbe(
            live.status_code == 200,
            ready.status_code == 200,
            f"livez {live.status_code}, readyz {ready.status_code}",
        )

    async def activate(self) -> bool:
        """Ask IBeam to authenticate now. True if it acknowledged."""
        try:
            response = await self._http.get("/activate")
        except httpx.HTTPError as exc:
            log.warning("IBeam /activate failed: %s", type(exc).__name__)
            return False
        return response.status_code < 300

    async def aclose(self) -> None:
        await self._http.aclose()
