"""Orders (cpapi.md §6): place with the reply-question chain, reply, suppress, live orders,
status, cancel and trades (modify and what-if live in :mod:`ibkr_sim.web.routes_modify`).

A placed order first meets the questions of :mod:`ibkr_sim.questions`; only after the last
one is confirmed does the engine see it.  A pending reply dies when any other request
arrives (the middleware invalidates it), which is how the real gateway behaves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp import web

from ibkr_sim.engine import EngineRejection, OrderNotFound
from ibkr_sim.engine.types import OrderTicket, SimOrder
from ibkr_sim.questions import Question, QuestionContext, new_reply_id, questions_for
from ibkr_sim.state import PendingReply, SimState
from ibkr_sim.web.errors import ApiError, json_response, read_json
from ibkr_sim.web.guards import need_account, need_brokerage, need_warm
from ibkr_sim.web.order_input import OrderRejected, parse_orders
from ibkr_sim.web.order_views import live_order_row, order_status_body, trade_row
from ibkr_sim.web.routing import state_of

__all__ = ["ROUTES"]

COID_WINDOW = timedelta(hours=24)
MAX_SUPPRESS = 51
STATUS_FILTERS = {
    "inactive": "Inactive", "pending_submit": "PendingSubmit",
    "pre_submitted": "PreSubmitted", "submitted": "Submitted", "filled": "Filled",
    "cancelled": "Cancelled", "pending_cancel": "PendingCancel",
    "pre_cancelled": "PreCancelled", "warn_state": "WarnState",
}


def _accepted(orders: list[SimOrder]) -> list[dict[str, Any]]:
    return [
        {"order_id": str(o.order_id), "order_status": o.status, "encrypt_message": "1"}
        for o in orders
    ]


def _submit(state: SimState, tickets: list[OrderTicket]) -> web.Response:
    placed: list[SimOrder] = []
    for ticket in tickets:
        try:
            placed.append(state.engine.submit(ticket))
        except EngineRejection as exc:
            if not placed:
                return json_response({"error": exc.message})
            break
    return json_response(_accepted(placed))


def _ask(
    state: SimState, tickets: list[OrderTicket], questions: list[Question],
    on_confirm: Callable[[], web.Response] | None = None,
) -> web.Response:
    reply_id = new_reply_id()
    state.pending[reply_id] = PendingReply(
        reply_id=reply_id, tickets=tickets, question=questions[0], later=questions[1:],
        generation=state.session.generation, on_confirm=on_confirm,
    )
    return json_response([questions[0].to_json(reply_id)])


def _duplicate_coid(state: SimState, tickets: list[OrderTicket]) -> str | None:
    now = state.clock.now()
    for ticket in tickets:
        if ticket.coid is None:
            continue
        earlier = state.engine.order_by_coid(ticket.account, ticket.coid)
        if earlier is not None and now - earlier.created_at < COID_WINDOW:
            return (
                f"Order couldn't be submitted: Local order ID={ticket.coid} is already "
                "registered."
            )
    return None


def _questions(state: SimState, ticket: OrderTicket) -> list[Question]:
    inst = state.instrument(ticket.conid)
    if inst is None:
        return []  # the engine refuses an unknown conid with its own wording
    opts = state.options
    ctx = QuestionContext(
        side=ticket.side, order_type=ticket.order_type, quantity=ticket.quantity,
        symbol=inst.symbol, listing_exchange=inst.listing_exchange,
        limit_price=ticket.limit_price, last=state.last_price(ticket.conid),
        entitled=state.entitled(ticket.conid), size_limit=opts.size_limit,
        value_limit=opts.value_limit, price_constraint_pct=opts.price_constraint_pct,
    )
    return questions_for(ctx, frozenset(state.memory().suppressed))


async def place_orders(request: web.Request) -> web.Response:
    state = state_of(request)
    need_warm(state)
    account = request.match_info["account"]
    need_account(state, account)
    body = await read_json(request)
    try:
        tickets = parse_orders(body, account)
    except OrderRejected as exc:
        return json_response({"error": str(exc)})
    duplicate = _duplicate_coid(state, tickets)
    if duplicate is not None:
        return json_response({"error": duplicate})
    questions = _questions(state, tickets[0])
    if questions:
        return _ask(state, tickets, questions)
    return _submit(state, tickets)


async def reply(request: web.Request) -> web.Response:
    state = state_of(request)
    need_brokerage(state)
    reply_id = request.match_info["reply_id"]
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("confirmed"), bool):
        raise ApiError(400, 'body must be {"confirmed": true} or {"confirmed": false}')
    pending = state.pending.pop(reply_id, None)
    if pending is None or pending.generation != state.session.generation:
        if reply_id in state.invalidated or pending is not None:
            raise ApiError(
                503, "Service Unavailable: the order awaiting this reply was discarded "
                "because another request arrived first",
            )
        raise ApiError(400, f"reply id not found: {reply_id}")
    if not body["confirmed"]:
        return json_response({"error": "Order was not confirmed; it has not been submitted."})
    if pending.later:
        return _ask(state, pending.tickets, pending.later, pending.on_confirm)
    if pending.on_confirm is not None:
        response: web.Response = pending.on_confirm()
        return response
    duplicate = _duplicate_coid(state, pending.tickets)
    if duplicate is not None:
        return json_response({"error": duplicate})
    return _submit(state, pending.tickets)


async def suppress(request: web.Request) -> web.Response:
    state = state_of(request)
    memory = need_brokerage(state)
    body = await read_json(request)
    ids = body.get("messageIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise ApiError(400, 'body must be like {"messageIds": ["o163", "o354"]}')
    if len(ids) > MAX_SUPPRESS:
        raise ApiError(400, f"at most {MAX_SUPPRESS} message ids")
    memory.suppressed = set(ids)
    return json_response({"status": "submitted"})


async def suppress_reset(request: web.Request) -> web.Response:
    state = state_of(request)
    need_brokerage(state).suppressed.clear()
    return json_response({"status": "submitted"})


def _today(state: SimState, order: SimOrder) -> bool:
    return not order.is_terminal or state.clock.now() - order.updated_at < timedelta(hours=24)


async def live_orders(request: web.Request) -> web.Response:
    state = state_of(request)
    memory = need_warm(state)
    account = request.query.get("accountId", state.account_id)
    need_account(state, account)
    force = request.query.get("force", "false").lower() == "true"
    filters = [f.strip().lower() for f in request.query.get("filters", "").split(",") if f.strip()]
    unknown = [f for f in filters if f not in STATUS_FILTERS and f != "sort_by_time"]
    if unknown:
        raise ApiError(400, f"unknown filter(s) {', '.join(unknown)}; use e.g. submitted,filled")
    if force or not memory.orders_primed:
        memory.orders_primed = True
        return json_response({"orders": [], "snapshot": False})
    wanted = {STATUS_FILTERS[f] for f in filters if f in STATUS_FILTERS}
    orders = [o for o in state.engine.orders(account) if _today(state, o)]
    if wanted:
        orders = [o for o in orders if o.status in wanted]
    orders.sort(key=lambda o: o.updated_at, reverse=True)
    rows = [live_order_row(o, state.instrument(o.conid)) for o in orders[:1000]]
    return json_response({"orders": rows, "snapshot": True})


def _order_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(400, f"order id must be an integer, got {raw!r}") from exc


async def order_status(request: web.Request) -> web.Response:
    state = state_of(request)
    need_warm(state)
    order_id = _order_id(request.match_info["order_id"])
    order = state.engine.order(order_id)
    if order is None or order.account != state.account_id:
        raise ApiError(503, f"Order {order_id} is not found")
    return json_response(order_status_body(order, state.instrument(order.conid)))


async def cancel(request: web.Request) -> web.Response:
    state = state_of(request)
    need_warm(state)
    account = request.match_info["account"]
    need_account(state, account)
    order_id = _order_id(request.match_info["order_id"])
    if order_id == -1:
        state.engine.cancel_all(account)
        return json_response(
            {"msg": "Request was submitted", "order_id": -1, "conid": -1, "account": account}
        )
    try:
        order = state.engine.cancel(account, order_id)
    except OrderNotFound as exc:
        return json_response({"error": exc.message})
    except EngineRejection as exc:
        return json_response({"error": exc.message})
    return json_response({"msg": "Request was submitted", "order_id": order.order_id,
                          "conid": order.conid, "account": order.account})


async def trades(request: web.Request) -> web.Response:
    state = state_of(request)
    need_warm(state)
    try:
        days = int(request.query.get("days", "1"))
    except ValueError as exc:
        raise ApiError(400, "days must be 1..7") from exc
    if not 1 <= days <= 7:
        raise ApiError(400, "days must be 1..7")
    since = state.clock.now() - timedelta(days=days)
    rows = [trade_row(e, state.instrument(e.conid))
            for e in state.engine.executions(state.account_id, since=since)]
    return json_response(rows)


ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/iserver/account/{account}/orders", place_orders),
    ("POST", "/iserver/reply/{reply_id}", reply),
    ("POST", "/iserver/questions/suppress", suppress),
    ("POST", "/iserver/questions/suppress/reset", suppress_reset),
    ("GET", "/iserver/account/orders", live_orders),
    ("GET", "/iserver/account/order/status/{order_id}", order_status),
    ("DELETE", "/iserver/account/{account}/order/{order_id}", cancel),
    ("GET", "/iserver/account/trades", trades),
]
