"""Path conventions shared by the routes: API prefixes and the app key of the state."""

from __future__ import annotations

from aiohttp import web

from ibkr_sim.state import SimState

__all__ = ["PREFIXES", "STATE_KEY", "api_path", "state_of"]

PREFIXES = ("/v1/api", "/v1/portal")
"""The gateway answers the same API under both (IBeam uses /v1/portal for some calls)."""

STATE_KEY: web.AppKey[SimState] = web.AppKey("ibkr_sim_state", SimState)


def api_path(path: str) -> str | None:
    """The path below the API prefix (``/iserver/...``), or None when outside the API."""
    for prefix in PREFIXES:
        if path.startswith(prefix + "/"):
            return path[len(prefix):]
    return None


def state_of(request: web.Request) -> SimState:
    return request.app[STATE_KEY]
