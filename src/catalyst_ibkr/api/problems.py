"""Every error the service answers, in one shape: `{"error": {"status", "message", "issues"}}`.

Why custom handlers: FastAPI's defaults echo the raw input back and differ per error kind;
a client should get one shape that says what to fix (`issues`: one `{field, problem}` per
bad field) and never a traceback. An unexpected exception is logged and answered 500
without detail; bad input never reaches that path (tests fuzz the schema for it).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalyst_ibkr.api.auth import AuthError
from catalyst_ibkr.api.body import MAX_BODY_BYTES, BodyTooLarge
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.logging import get_logger
from catalyst_ibkr.service.errors import IdempotencyConflict, InvalidRequest, NotFound

__all__ = ["error_response", "install_handlers"]

_log = get_logger("catalyst_ibkr.api")


def error_response(
    status: int,
    message: str,
    *,
    issues: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"status": status, "message": message}
    if issues:
        error["issues"] = issues
    if extra:
        error.update(extra)
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _issues(exc: InvalidInput) -> list[dict[str, str]]:
    return [{"field": issue.field, "problem": issue.problem} for issue in exc.issues]


def _pydantic_issues(exc: RequestValidationError) -> list[dict[str, str]]:
    issues = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        issues.append({"field": ".".join(loc) or "request", "problem": str(err.get("msg", ""))})
    return issues


async def _invalid_input(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    return error_response(
        422, "the request is invalid; nothing was stored", issues=_issues(exc)
    )


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(
        422, "the request is invalid; nothing was stored", issues=_pydantic_issues(exc)
    )


async def _too_large(_: Request, __: Exception) -> JSONResponse:
    return error_response(413, f"the body is larger than {MAX_BODY_BYTES} bytes")


async def _auth(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, str(exc), headers=headers)


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return error_response(404, str(exc))


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    return error_response(409, str(exc))


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidRequest)
    issues = [{"field": exc.field, "problem": str(exc)}] if exc.field else None
    return error_response(422, str(exc), issues=issues)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, str(exc.detail), headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.error(
        "unhandled_error", path=request.url.path, error=type(exc).__name__, exc_info=exc
    )
    return error_response(500, "internal error; it was logged (nothing about it is your input)")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(AuthError, _auth)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(IdempotencyConflict, _conflict)
    app.add_exception_handler(InvalidRequest, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
