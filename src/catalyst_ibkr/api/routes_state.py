"""Positions, account, risk and trading state, the kill switch, health.

`POST /v1/kill` is this service's addition to interfaces.md: the one authenticated call of
reliability (a) 21 (HALTED, cancel all, verify by reconciliation) that `catalyst-ibkr kill`
uses. Health needs a key like every /v1 call; readiness answers 503 while not ready, so a
load balancer or compose healthcheck can use the status code alone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from catalyst_ibkr.api.auth import Admin, Caller
from catalyst_ibkr.api.body import read_json_object
from catalyst_ibkr.api.deps import Service
from catalyst_ibkr.api.encode import jsonable
from catalyst_ibkr.api.schemas import TradingStateBody, request_body
from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.errors import InvalidInput, Issue
from catalyst_ibkr.service.views import (
    AccountView,
    HealthView,
    KillReport,
    PositionView,
    RiskView,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1")


@router.get("/positions", response_model=list[PositionView], tags=["portfolio"],
            summary="Positions from fills, beside IBKR's")
async def positions(service: Service, _caller: Caller) -> JSONResponse:
    return JSONResponse(jsonable(await service.positions()))


@router.get("/account", response_model=AccountView, tags=["portfolio"],
            summary="Account summary and P&L")
async def account(service: Service, _caller: Caller) -> JSONResponse:
    return JSONResponse(jsonable(await service.account()))


@router.get("/risk", response_model=RiskView, tags=["risk"],
            summary="Limits, trading state, broker hold, usage")
async def risk(service: Service, _caller: Caller) -> JSONResponse:
    return JSONResponse(jsonable(await service.risk()))


def _state(body: dict[str, object]) -> TradingState:
    extra = [
        Issue(str(key), "is not a known field; send only state")
        for key in sorted(map(str, body))
        if key != "state"
    ]
    value = body.get("state")
    if extra:
        raise InvalidInput(extra)
    if value is None:
        raise InvalidInput("state", "is required: ACTIVE, REDUCING or HALTED")
    if not isinstance(value, str) or value not in TradingState.__members__:
        raise InvalidInput("state", f"{value!r} is not one of ACTIVE, REDUCING, HALTED")
    return TradingState(value)


@router.post(
    "/risk/state",
    response_model=RiskView,
    tags=["risk"],
    openapi_extra=request_body(TradingStateBody),
    responses={403: {"description": "Needs the admin key"}, 422: {"description": "Bad state"}},
    summary="Set the operator trading state (admin); it persists until changed",
)
async def set_state(request: Request, service: Service, caller: Admin) -> JSONResponse:
    state = _state(await read_json_object(request))
    return JSONResponse(jsonable(await service.set_trading_state(state, actor=caller.actor)))


@router.post(
    "/kill",
    response_model=KillReport,
    tags=["risk"],
    responses={403: {"description": "Needs the admin key"}},
    summary="Kill switch (admin): HALTED, cancel everything, verify none remain",
)
async def kill(service: Service, caller: Admin) -> JSONResponse:
    return JSONResponse(jsonable(await service.kill(actor=caller.actor)))


@router.get(
    "/health",
    response_model=HealthView,
    tags=["ops"],
    responses={503: {"description": "Not live, or (ready=1) not ready to send"}},
    summary="Liveness; ready=1 for readiness with the broker session's detail",
)
async def health(service: Service, _caller: Caller, ready: bool = False) -> JSONResponse:
    view = await service.health(ready=ready)
    healthy = view.ok and (view.ready or not ready)
    return JSONResponse(jsonable(view), status_code=200 if healthy else 503)
