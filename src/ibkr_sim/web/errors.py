"""IBKR's error shapes (cpapi.md §9) and the JSON encoding every route uses.

Handlers raise :class:`ApiError`; the middleware turns it into the body IBKR would send.  No
handler builds an error response by hand, so a wrong shape can only be wrong in one place.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

__all__ = [
    "NOT_FOUND_HTML",
    "ApiError",
    "bad_request",
    "dumps",
    "json_response",
    "not_authenticated",
    "not_found_response",
]

NOT_FOUND_HTML = "<html><body><h1>Resource not found</h1></body></html>"


class ApiError(Exception):
    """An answer other than success: ``status`` plus ``{"error": message[, "statusCode"]}``."""

    def __init__(self, status: int, message: str, *, with_status_code: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.with_status_code = with_status_code

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.with_status_code:
            out["statusCode"] = self.status
        return out


def not_authenticated() -> ApiError:
    return ApiError(401, "not authenticated")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def _default(obj: object) -> object:
    if isinstance(obj, Decimal):
        return float(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, separators=(",", ":"))


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=dumps(data), status=status, content_type="application/json", charset="utf-8"
    )


def not_found_response() -> web.Response:
    return web.Response(text=NOT_FOUND_HTML, status=404, content_type="text/html")


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body(), status=error.status)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number IBKR accepts")


def parse_json(text: str) -> Any:
    """Decode a request body: decimals stay exact, NaN/Infinity are refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


async def read_json(request: web.Request, *, required: bool = True) -> Any:
    """The request's JSON body, or IBKR's parse error (400) when it is not JSON."""
    text = await request.text()
    if not text.strip():
        if required:
            raise ApiError(400, "Failed to parse body as JSON: the body is empty")
        return None
    try:
        return parse_json(text)
    except (ValueError, RecursionError) as exc:
        raise ApiError(
            400,
            "Failed to parse body as JSON. Content Type: application/json; charset=utf-8 "
            f"({exc})",
        ) from exc
