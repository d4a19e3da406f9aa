"""The control API at ``/sim/*`` (interfaces.md): state, market pins, clock, reset, faults.

It belongs to the test harness, not to IBKR: never paced, never counted, never faulted
(the middleware lets it straight through).  Extras beyond interfaces.md are additive:
``/sim/market`` accepts ``"entitled": false`` to make a conid lack market data (o354), and
``/sim/state`` also reports the session flags and pending faults.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from ibkr_sim.faults import parse_fault
from ibkr_sim.state import SimState
from ibkr_sim.web.errors import ApiError, json_response, read_json
from ibkr_sim.web.routing import state_of

__all__ = ["ROUTES", "sim_state_body"]


def _dec(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def sim_state_body(state: SimState) -> dict[str, Any]:
    state.step()
    orders = [
        {
            "order_id": o.order_id, "cOID": o.coid, "account": o.account, "conid": o.conid,
            "symbol": o.symbol, "side": o.side, "order_type": o.order_type,
            "quantity": _dec(o.quantity), "filled_quantity": _dec(o.filled_quantity),
            "status": o.status,
        }
        for o in state.engine.orders()
    ]
    positions = [
        {"account": p.account or state.account_id, "conid": p.conid, "symbol": p.symbol,
         "quantity": _dec(p.quantity), "avg_cost": str(p.avg_cost)}
        for p in state.engine.positions(state.account_id)
        if p.quantity != 0
    ]
    snap = state.session.snapshot()
    return {
        "now": state.clock.now().isoformat(),
        "orders": orders,
        "positions": positions,
        "stats": state.pacer.stats(),
        "session": {
            "portal": snap.portal, "authenticated": snap.authenticated,
            "connected": snap.connected, "competing": snap.competing,
            "session": snap.session_id,
        },
        "faults": state.faults.pending(),
    }


async def get_state(request: web.Request) -> web.Response:
    return json_response(sim_state_body(state_of(request)))


def _price(body: dict[str, Any], key: str) -> Decimal | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ApiError(400, f"{key} must be a number")
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise ApiError(400, f"{key} must be a number, got {value!r}") from exc
    if not number.is_finite() or number <= 0:
        raise ApiError(400, f"{key} must be a positive price, got {value!r}")
    return number


async def set_market(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, 'body must be like {"symbol": "AAPL", "last": "190.00"}')
    unknown = set(body) - {"symbol", "conid", "last", "bid", "ask", "entitled"}
    if unknown:
        raise ApiError(400, f"unknown key(s) {', '.join(sorted(unknown))}")
    conid = _resolve(state, body)
    last, bid, ask = _price(body, "last"), _price(body, "bid"), _price(body, "ask")
    entitled = body.get("entitled")
    if entitled is not None and not isinstance(entitled, bool):
        raise ApiError(400, "entitled must be true or false")
    if last is None and bid is None and ask is None and entitled is None:
        raise ApiError(400, "give at least one of last, bid, ask (or entitled)")
    if last is not None or bid is not None or ask is not None:
        try:
            state.market.set(conid, last=last, bid=bid, ask=ask)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
    if entitled is not None:
        (state.unentitled.discard if entitled else state.unentitled.add)(conid)
    quote = state.market.quote(conid)
    state.step()
    return json_response({
        "conid": conid, "last": str(quote.last), "bid": str(quote.bid), "ask": str(quote.ask),
        "entitled": state.entitled(conid),
    })


def _resolve(state: SimState, body: dict[str, Any]) -> int:
    if "conid" in body:
        raw = body["conid"]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            raise ApiError(400, f"conid must be an integer, got {raw!r}")
        conid = int(raw)
        if state.instrument(conid) is None:
            raise ApiError(400, f"unknown conid {conid}")
        return conid
    symbol = body.get("symbol")
    if not isinstance(symbol, str):
        raise ApiError(400, "give symbol or conid")
    found = state.universe.by_symbol(symbol)
    if not found:
        raise ApiError(400, f"unknown symbol {symbol!r}")
    return found[0].conid


async def advance_clock(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request)
    value = body.get("advance_s") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ApiError(400, 'body must be like {"advance_s": 60}')
    seconds = float(value)
    if not 0 <= seconds < 10 * 365 * 86400:
        raise ApiError(400, "advance_s must be >= 0 (time never goes back)")
    state.clock.advance(seconds)
    state.step()
    return json_response({"now": state.clock.now().isoformat()})


async def reset(request: web.Request) -> web.Response:
    state = state_of(request)
    state.reset()
    return json_response({"reset": True, "now": state.clock.now().isoformat()})


async def add_fault(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request)
    try:
        fault = parse_fault(body)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    session = state.session
    if fault.kind == "expire_session":
        session.inject_expiry()
    elif fault.kind == "competing_session":
        session.inject_competing()
    elif fault.kind == "daily_reset":
        session.inject_daily_reset()
    elif fault.kind == "restart":
        session.inject_restart(fault.relogin_s)
        state.pending.clear()
    state.faults.add(fault)
    return json_response({"accepted": fault.describe(), "pending": state.faults.pending()})


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/sim/state", get_state),
    ("POST", "/sim/market", set_market),
    ("POST", "/sim/clock", advance_clock),
    ("POST", "/sim/reset", reset),
    ("POST", "/sim/faults", add_fault),
]
