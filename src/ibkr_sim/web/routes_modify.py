"""Modify (cpapi.md §6.8) and what-if (§6.4): the two order calls that change nothing at once.

Modify: the body is ONE order object (no ``orders`` wrapper) repeating the original fields
with the changed values.  The same precautionary questions as a new order may be asked
about the *modified* order (a new limit price more than 3% from the last, size or value
limits, no market data); the change is applied only after the last ``/iserver/reply`` says
yes, and any other request in between discards it, exactly like a placement.  Changing the
contract, side or order type is refused: IBKR requires cancel-and-replace for those.

What-if: the order is validated and priced (commission, equity, margin, position before
and after) without being placed; the engine is not touched.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from ibkr_sim.engine import EngineRejection, OrderNotFound, SimOrder
from ibkr_sim.engine.portfolio import INITIAL_MARGIN, MAINT_LONG, MAINT_SHORT
from ibkr_sim.questions import QuestionContext, questions_for
from ibkr_sim.state import SimState
from ibkr_sim.web.errors import ApiError, json_response, read_json
from ibkr_sim.web.guards import need_account, need_warm
from ibkr_sim.web.order_input import ORDER_TYPES, TIFS, OrderRejected, parse_orders
from ibkr_sim.web.routes_orders import _accepted, _ask, _order_id
from ibkr_sim.web.routing import state_of

__all__ = ["MODIFY_QUESTIONS", "ROUTES"]

MODIFY_QUESTIONS = frozenset({"o163", "o354", "o383", "o451"})
"""Questions a modification can trigger (the order-type warnings were answered at placement)."""

ZERO = Decimal(0)
NO_MARKET_DATA_WARN = (
    "21/You are trying to submit an order without having market data for this instrument. "
    "IB strongly recommends against this kind of blind trading which may result in "
    "erroneous or unexpected trades."
)


def _number(body: dict[str, Any], key: str) -> Decimal | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ApiError(400, f"orders request includes parameter with incorrect type: {key}")
    number = Decimal(value)
    if not number.is_finite():
        raise ApiError(400, f"{key} must be a finite number")
    return number


def _same_order(existing: SimOrder, body: dict[str, Any]) -> None:
    """Refuse changes IBKR only allows as cancel-and-replace."""
    conid = body.get("conid")
    if conid is not None and str(conid) != str(existing.conid):
        raise ApiError(400, "conid cannot be changed by a modify; cancel and place a new order")
    side = body.get("side")
    if side is not None and (not isinstance(side, str) or side.upper() != existing.side):
        raise ApiError(400, f"side cannot be changed by a modify (the order is {existing.side})")
    kind = body.get("orderType")
    if kind is not None:
        if not isinstance(kind, str) or kind.upper() not in ORDER_TYPES:
            raise ApiError(400, "Unknown order type")
        if ORDER_TYPES[kind.upper()] != existing.order_type:
            raise ApiError(
                400, f"orderType cannot be changed by a modify (the order is "
                f"{existing.order_type}); cancel and place a new order",
            )


def _modify_questions(
    state: SimState, order: SimOrder, quantity: Decimal, limit: Decimal | None
) -> list[Any]:
    inst = state.instrument(order.conid)
    if inst is None:
        return []
    opts = state.options
    ctx = QuestionContext(
        side=order.side, order_type=order.order_type, quantity=quantity, symbol=inst.symbol,
        listing_exchange=inst.listing_exchange, limit_price=limit,
        last=state.last_price(order.conid), entitled=state.entitled(order.conid),
        size_limit=opts.size_limit, value_limit=opts.value_limit,
        price_constraint_pct=opts.price_constraint_pct,
    )
    asked = questions_for(ctx, frozenset(state.memory().suppressed))
    return [q for q in asked if q.message_id in MODIFY_QUESTIONS]


async def modify(request: web.Request) -> web.Response:
    state = state_of(request)
    need_warm(state)
    account = request.match_info["account"]
    need_account(state, account)
    order_id = _order_id(request.match_info["order_id"])
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "body must be one order object (not wrapped in orders)")
    existing = state.engine.order(order_id)
    if existing is None or existing.account != account:
        return json_response({"error": f"OrderID {order_id} doesn't exist"})
    _same_order(existing, body)
    quantity = _number(body, "quantity")
    price, aux = _number(body, "price"), _number(body, "auxPrice")
    limit_price = stop_price = None
    if existing.order_type == "STP":
        stop_price = price if price is not None else aux
    elif existing.order_type == "LMT":
        limit_price = price
    elif existing.order_type == "STP_LMT":
        limit_price, stop_price = price, aux
    tif = body.get("tif")
    if tif is not None and (not isinstance(tif, str) or tif.upper() not in TIFS):
        raise ApiError(400, f"tif must be one of {', '.join(TIFS)}")
    new_tif = tif.upper() if isinstance(tif, str) else None

    def apply() -> web.Response:
        try:
            order = state.engine.modify(
                account, order_id, quantity=quantity, limit_price=limit_price,
                stop_price=stop_price, tif=new_tif,
            )
        except OrderNotFound:
            return json_response({"error": f"OrderID {order_id} doesn't exist"})
        except EngineRejection as exc:
            return json_response({"error": exc.message})
        return json_response(_accepted([order]))

    if existing.is_terminal:
        return apply()  # the engine words the refusal ("already Filled")
    questions = _modify_questions(
        state, existing, quantity if quantity is not None else existing.quantity,
        limit_price if limit_price is not None else existing.limit_price,
    )
    if questions:
        return _ask(state, [], questions, apply)
    return apply()


# ------------------------------------------------------------------------------ what-if
def _fmt(value: Decimal, places: int = 0) -> str:
    return f"{value:,.{places}f}"


def _plain(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _change(current: Decimal, after: Decimal) -> dict[str, str]:
    return {"current": _fmt(current), "change": _fmt(after - current), "after": _fmt(after)}


def _margin(quantity: Decimal, price: Decimal) -> tuple[Decimal, Decimal]:
    value = abs(quantity) * price
    maint = MAINT_LONG if quantity >= 0 else MAINT_SHORT
    return value * INITIAL_MARGIN, value * maint


async def whatif(request: web.Request) -> web.Response:
    state = state_of(request)
    need_warm(state)
    account = request.match_info["account"]
    need_account(state, account)
    body = await read_json(request)
    try:
        ticket = parse_orders(body, account)[0]
    except OrderRejected as exc:
        return json_response({"error": str(exc)})
    if ticket.quantity <= 0:
        # Recorded from a real gateway: a 500 with this wording.
        return json_response(
            {"error": f"Order size {ticket.quantity:f} is not valid. Please enter size greater "
                      "than 0."}, 500,
        )
    inst = state.instrument(ticket.conid)
    if inst is None:
        return json_response({"error": f"no sec defs returned forSecDef conid={ticket.conid}"})
    quote = state.market.quote(ticket.conid)
    if ticket.order_type in ("LMT", "STP_LMT") and ticket.limit_price is not None:
        price = ticket.limit_price
    elif ticket.order_type == "STP" and ticket.stop_price is not None:
        price = ticket.stop_price
    else:
        price = quote.ask if ticket.side == "BUY" else quote.bid
    value = ticket.quantity * price
    commission = state.engine.commission.for_fill(ZERO, ZERO, ticket.quantity, value)
    acct = state.engine.account(account)
    held = next((p.quantity for p in state.engine.positions(account) if p.conid == inst.conid),
                ZERO)
    signed = ticket.quantity if ticket.side == "BUY" else -ticket.quantity
    after = held + signed
    init_before, maint_before = _margin(held, price)
    init_after, maint_after = _margin(after, price)
    initial_after = acct.init_margin - init_before + init_after
    maint_total_after = acct.maint_margin - maint_before + maint_after
    equity_after = acct.net_liquidation - commission
    error = None
    if equity_after - initial_after < 0:
        error = (
            "Your order is not accepted because your Equity with Loan Value of "
            f"{_fmt(equity_after, 2)} USD is insufficient to cover the Initial Margin "
            f"requirement of {_fmt(initial_after, 2)} USD."
        )
    warn = None if state.entitled(inst.conid) else NO_MARKET_DATA_WARN
    total = value + commission if ticket.side == "BUY" else value - commission
    return json_response({
        "amount": {
            "amount": f"{_fmt(value, 2)} USD ({_plain(ticket.quantity)} Shares)",
            "commission": f"{_plain(commission)} USD",
            "total": f"{_fmt(total, 2)} USD",
        },
        "equity": _change(acct.net_liquidation, equity_after),
        "initial": _change(acct.init_margin, initial_after),
        "maintenance": _change(acct.maint_margin, maint_total_after),
        "position": {"current": _plain(held), "change": _plain(signed), "after": _plain(after)},
        "warn": warn, "error": error,
        "warns": [warn] if warn else [], "errors": [error] if error else [],
    })


ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/iserver/account/{account}/order/{order_id}", modify),
    ("POST", "/iserver/account/{account}/orders/whatif", whatif),
]
