"""Orders: list, cancel, modify, cancel-all.

A command's answer is the service's CommandView. HTTP status by outcome: ACCEPTED -> 202
(the broker took it; watch the order), PENDING -> 202 (outcome unknown, left pending until
reconciliation finds evidence; never retried blind), REJECTED (broker) and DENIED (our risk;
no broker call) -> 409 with `detail`/`reason_code`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from catalyst_ibkr.api.auth import Admin, Caller
from catalyst_ibkr.api.body import read_json_object
from catalyst_ibkr.api.deps import Service
from catalyst_ibkr.api.encode import jsonable
from catalyst_ibkr.api.schemas import ModifyBody, request_body
from catalyst_ibkr.core.errors import InvalidInput, Issue
from catalyst_ibkr.core.money import parse_decimal
from catalyst_ibkr.service.views import CommandView, OrderView

__all__ = ["command_response", "router"]

router = APIRouter(prefix="/v1", tags=["orders"])

_COMMAND_STATUS = {"ACCEPTED": 202, "PENDING": 202, "REJECTED": 409, "DENIED": 409}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "ACCEPTED or PENDING (outcome unknown, reconciled later)"},
    404: {"description": "No such order"},
    409: {"description": "REJECTED by the broker or DENIED by risk"},
}


def command_response(view: CommandView) -> JSONResponse:
    return JSONResponse(jsonable(view), status_code=_COMMAND_STATUS.get(view.status, 200))


@router.get(
    "/orders", response_model=list[OrderView],
    summary="Orders (open_only=true: only working ones)",
)
async def list_orders(service: Service, _caller: Caller, open_only: bool = False) -> JSONResponse:
    return JSONResponse(jsonable(await service.list_orders(open_only=open_only)))


@router.post(
    "/orders/cancel-all", response_model=CommandView, responses=_RESPONSES,
    summary="Cancel every working order (admin)",
)
async def cancel_all(service: Service, caller: Admin) -> JSONResponse:
    return command_response(await service.cancel_all(actor=caller.actor))


@router.post(
    "/orders/{order_id}/cancel",
    response_model=CommandView,
    responses=_RESPONSES,
    summary="Cancel one order (order_id: cOID or broker order id)",
)
async def cancel_order(order_id: str, service: Service, _caller: Caller) -> JSONResponse:
    return command_response(await service.cancel_order(order_id))


def _modify_fields(body: dict[str, Any]) -> dict[str, Decimal | None]:
    issues = [
        Issue(str(key), "is not a known field; send quantity, limit_price or stop_price")
        for key in sorted(map(str, body))
        if key not in ModifyBody.model_fields
    ]
    values: dict[str, Decimal | None] = {}
    for name in ModifyBody.model_fields:
        raw = body.get(name)
        if raw is None:
            values[name] = None
            continue
        try:
            values[name] = parse_decimal(raw, name, positive=True)
        except InvalidInput as exc:
            issues.extend(exc.issues)
    if not issues and all(value is None for value in values.values()):
        issues.append(Issue("body", "send at least one of quantity, limit_price, stop_price"))
    if issues:
        raise InvalidInput(issues)
    return values


@router.post(
    "/orders/{order_id}/modify",
    response_model=CommandView,
    responses={**_RESPONSES, 422: {"description": "Invalid fields; nothing changed"}},
    openapi_extra=request_body(ModifyBody),
    summary="Modify quantity / limit / stop of one order",
)
async def modify_order(
    order_id: str, request: Request, service: Service, _caller: Caller
) -> JSONResponse:
    fields = _modify_fields(await read_json_object(request))
    view = await service.modify_order(
        order_id,
        quantity=fields["quantity"],
        limit_price=fields["limit_price"],
        stop_price=fields["stop_price"],
    )
    return command_response(view)
