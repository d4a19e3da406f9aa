"""The two bearer keys: CATALYST_API_KEY (signals and reads) and CATALYST_ADMIN_KEY (risk
state, cancel-all, kill). The admin key may do everything the API key may.

Why compare with `hmac.compare_digest` against both keys every time: the time taken must
not tell an attacker how much of a key was right, nor which key it resembled. With no key
configured (loopback only, enforced by `serve`) every call is allowed and the actor is
"local"; with any key configured every /v1 call needs one.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request

from catalyst_ibkr.logging import get_logger

__all__ = ["Admin", "ApiKeys", "AuthError", "Caller", "Principal", "Reader"]

_log = get_logger("catalyst_ibkr.api.auth")

Role = Literal["api", "admin"]


@dataclass(frozen=True, slots=True)
class ApiKeys:
    """The configured keys (None or "": not set). Never logged: the repr hides them."""

    api_key: str | None = None
    admin_key: str | None = None

    def __repr__(self) -> str:
        return f"ApiKeys(api_key={'set' if self.api_key else None}, " \
               f"admin_key={'set' if self.admin_key else None})"

    @property
    def required(self) -> bool:
        return bool(self.api_key or self.admin_key)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as far as the keys tell: recorded as the `actor` of admin actions."""

    role: Role
    actor: str


class AuthError(Exception):
    """401 (no or wrong key) or 403 (a valid key without the needed role)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _matches(presented: bytes, key: str | None) -> bool:
    expected = (key or "").encode("utf-8")
    # Always compare (even against an unset key) so both keys cost the same time.
    same = hmac.compare_digest(presented, expected if expected else b"\x00unset")
    return bool(expected) and same


def _bearer(request: Request) -> bytes | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode("utf-8", "surrogateescape")


async def authenticate(request: Request) -> Principal:
    """The caller's role, or AuthError(401). No keys configured: everyone is admin ("local").

    `async` although it never awaits: FastAPI runs a plain `def` dependency on a worker
    thread, a thread hop on every request for a few microseconds of work."""
    keys: ApiKeys = request.app.state.keys
    if not keys.required:
        return Principal("admin", "local")
    token = _bearer(request)
    if token is None:
        _log.warning("auth_failed", reason="missing bearer key", path=request.url.path)
        raise AuthError(401, "this service needs a key: send 'Authorization: Bearer KEY'")
    is_admin = _matches(token, keys.admin_key)
    is_api = _matches(token, keys.api_key)
    if is_admin:
        return Principal("admin", "admin-key")
    if is_api:
        return Principal("api", "api-key")
    _log.warning("auth_failed", reason="unknown key", path=request.url.path)
    raise AuthError(401, "the key is not valid for this service")


async def require_admin(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """Only the admin key (risk state, cancel-all, kill)."""
    if principal.role != "admin":
        raise AuthError(403, "this action needs the admin key (CATALYST_ADMIN_KEY)")
    return principal


Caller = Annotated[Principal, Depends(authenticate)]
Reader = Caller
Admin = Annotated[Principal, Depends(require_admin)]
