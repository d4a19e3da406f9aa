"""Session endpoints (cpapi.md §2): auth status, tickle, ssodh/init, reauthenticate, SSO, logout."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ibkr_sim.web.errors import ApiError, json_response, read_json
from ibkr_sim.web.guards import need_portal
from ibkr_sim.web.routing import state_of

__all__ = ["ROUTES"]


async def auth_status(request: web.Request) -> web.Response:
    """Answered even without a session: that is how a client learns it has none."""
    return json_response(state_of(request).session.auth_status())


async def tickle(request: web.Request) -> web.Response:
    state = state_of(request)
    if not state.session.portal:
        raise ApiError(401, "no session", with_status_code=False)
    body = state.session.tickle()
    response = json_response(body)
    response.set_cookie(
        "x-sess-uuid", str(body["session"]), path="/v1/api", secure=True, httponly=True
    )
    return response


async def ssodh_init(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    body: Any = await read_json(request, required=False)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(400, 'body must be a JSON object like {"publish": true, "compete": true}')
    publish = body.get("publish", True)
    compete = body.get("compete", False)
    if not isinstance(publish, bool) or not isinstance(compete, bool):
        raise ApiError(400, "publish and compete must be true or false")
    if not publish:
        raise ApiError(500, "publish must be true", with_status_code=False)
    state.session.ssodh_init(compete=compete)
    out = state.session.auth_status()
    out["passed"] = state.session.authenticated
    return json_response(out)


async def reauthenticate(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    state.session.reauthenticate()
    return json_response({"message": "triggered"})


async def sso_validate(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    return json_response(state.session.sso_validate())


async def logout(request: web.Request) -> web.Response:
    state_of(request).session.logout()
    return json_response({"status": True})


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/iserver/auth/status", auth_status),
    ("POST", "/iserver/auth/status", auth_status),
    ("GET", "/tickle", tickle),
    ("POST", "/tickle", tickle),
    ("POST", "/iserver/auth/ssodh/init", ssodh_init),
    ("POST", "/iserver/reauthenticate", reauthenticate),
    ("GET", "/sso/validate", sso_validate),
    ("POST", "/logout", logout),
    ("GET", "/logout", logout),
]
