"""`POST /v1/signals` and `GET /v1/signals/{id}`.

Intake never waits on the broker: the service journals the signal and answers; risk,
sending and fills happen behind it and show in `GET /v1/signals/{id}` and `/v1/events`.
Idempotency lives in the service (same id + same fingerprint -> the first view, also for
concurrent duplicates; different fingerprint -> IdempotencyConflict -> 409).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from catalyst_ibkr.api.auth import Caller, authenticate
from catalyst_ibkr.api.body import read_json_object, signal_fingerprint
from catalyst_ibkr.api.deps import Service, get_service
from catalyst_ibkr.api.encode import jsonable
from catalyst_ibkr.api.schemas import SignalAccepted, SignalBody, request_body
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.errors import NotFound
from catalyst_ibkr.service.views import SignalView

__all__ = ["accept_signal", "router"]

router = APIRouter(prefix="/v1", tags=["signals"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong key"},
    409: {"description": "This id was used with a different body; nothing changed"},
    413: {"description": "Body too large"},
    422: {"description": "Invalid signal; `issues` names each field; nothing stored"},
}


def _parse_signal(body: dict[str, Any], default_ttl_s: Decimal | None = None) -> Signal:
    try:
        return Signal.from_mapping(body, datetime.now(UTC), default_ttl_s=default_ttl_s)
    except InvalidInput:
        raise
    except (TypeError, ValueError, ArithmeticError) as exc:
        # A value of a shape no validator expected: still the client's input, still a 422.
        raise InvalidInput("body", f"cannot be read as a signal ({type(exc).__name__})") from None


def accepted(view: SignalView) -> dict[str, Any]:
    """The 202 answer: what intake did, which is the same for every duplicate.

    `status` is always RECEIVED (journaled): the answer must be "the first answer again" for
    a duplicate, also after a restart, and the later story (DENIED with `reason_code`,
    SUBMITTED, FILLED...) lives at `url`, not in the intake answer.
    """
    return {"id": view.id, "status": "RECEIVED", "url": f"/v1/signals/{view.id}"}


async def accept_signal(request: Request) -> JSONResponse:
    """The whole of `POST /v1/signals`, in the order the route's dependencies ran: the
    service must be up (503), then the key (401), then the body (413/422), then intake.

    One implementation for the route and for the intake fast path (api/intake_path.py),
    which answers this request without FastAPI's routing and dependency solving.
    """
    service = await get_service(request)
    await authenticate(request)
    idempotency_key = request.headers.get("idempotency-key")
    body = await read_json_object(request)
    ttl_s_sent = body.get("ttl_s") is not None
    default_ttl: Decimal | None = request.app.state.default_ttl_s  # [oms] default_ttl_s
    signal = _parse_signal(body, default_ttl)
    if idempotency_key is not None and idempotency_key != signal.id:
        raise InvalidInput(
            "Idempotency-Key", f"must equal the body's id {str(signal.id)!r} (or be omitted)"
        )
    # of the body as sent: a default ttl is not part of it
    fingerprint = signal_fingerprint(signal, ttl_s_sent=ttl_s_sent)
    view = await service.submit_signal(signal, body_fingerprint=fingerprint)
    answer = accepted(view)
    return JSONResponse(answer, status_code=202, headers={"Location": answer["url"]})


@router.post(
    "/signals",
    status_code=202,
    response_model=SignalAccepted,
    responses=_ERRORS,
    openapi_extra=request_body(SignalBody),
    summary="Submit a signal (idempotent by id)",
)
async def post_signal(
    request: Request,
    _service: Service,
    _caller: Caller,
    _idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    # Declared for the OpenAPI document (and any app without the fast path in front);
    # in `create_app` the intake fast path answers this request before routing.
    return await accept_signal(request)


@router.get(
    "/signals/{signal_id}",
    response_model=SignalView,
    responses={404: {"description": "No signal with this id"}, 401: {}},
    summary="A signal: status, risk decision, cOID, broker order id, fills, questions",
)
async def get_signal(signal_id: str, service: Service, _caller: Caller) -> JSONResponse:
    view = await service.get_signal(signal_id)
    if view is None:
        raise NotFound("signal", signal_id)
    return JSONResponse(jsonable(view))
