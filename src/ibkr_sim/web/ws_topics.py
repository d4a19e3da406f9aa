"""What the websocket sends, frame by frame (cpapi.md §8.1, §8.3), kept apart from the socket.

Every function here is pure: it reads the simulator's state and returns the JSON object of
one frame.  The connection code (:mod:`ibkr_sim.web.ws`) decides *when* to send; this module
decides *what*, so the shapes can be unit-tested and reused by other views.

Shapes follow the recordings of a real gateway: a connect burst of ``system``/``act``/``sts``;
``smd`` frames whose first frame is full and whose later frames carry only changed fields
(plus the bookkeeping keys the gateway always repeats); ``sor`` rows that are the live-orders
rows of the REST API, then deltas keyed by ``acct`` + ``orderId``; ``str`` rows that are the
trades rows, each sent once without and once with ``commission``; ``spl`` per account segment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ibkr_sim.engine.types import Execution, SimOrder
from ibkr_sim.session import SERVER_INFO, USER_NAME
from ibkr_sim.state import SimState
from ibkr_sim.web.order_views import live_order_row, trade_row
from ibkr_sim.web.pnl_view import pnl_partitions
from ibkr_sim.web.routes_marketdata import FIELD_CODES
from ibkr_sim.web.routes_portfolio import iserver_accounts_body

__all__ = [
    "MD_ALWAYS",
    "account_frame",
    "heartbeat_frame",
    "market_values",
    "order_delta",
    "order_row",
    "pnl_args",
    "pnl_frame",
    "status_args",
    "system_frame",
    "tic_frame",
    "trade_rows",
]

MD_ALWAYS = ("server_id", "conidEx", "conid", "_updated", "6119", "topic")
"""Keys every ``smd`` frame carries, changed or not (recorded)."""

_ORDER_KEYS = ("acct", "orderId")
_POSITION_CODES = {"73", "74", "75", "78", "79"}


def now_ms(state: SimState) -> int:
    return int(state.clock.now().timestamp() * 1000)


def system_frame(state: SimState) -> dict[str, Any]:
    """First frame after authentication: the user name and the paper flag."""
    return {"topic": "system", "success": USER_NAME, "isFT": False, "isPaper": True}


def heartbeat_frame(state: SimState) -> dict[str, Any]:
    return {"topic": "system", "hb": now_ms(state)}


def account_frame(state: SimState) -> dict[str, Any]:
    return {"topic": "act", "args": iserver_accounts_body(state)}


def status_args(state: SimState) -> dict[str, Any]:
    """The full ``sts`` arguments (connect burst); updates send only the keys that changed."""
    status = state.session.auth_status()
    return {
        "connected": bool(status.get("connected")),
        "authenticated": bool(status.get("authenticated")),
        "established": bool(status.get("established")),
        "competing": bool(status.get("competing")),
        "message": status.get("message") or "",
        "fail": "",
        "serverName": SERVER_INFO["serverName"],
        "serverVersion": SERVER_INFO["serverVersion"],
        "username": USER_NAME,
    }


def tic_frame(state: SimState) -> dict[str, Any]:
    return {
        "topic": "tic", "alive": True, "id": state.session.session_id,
        "lastAccessed": now_ms(state),
    }


# ----------------------------------------------------------------------------- smd
def market_values(state: SimState, conid: int, fields: set[str]) -> dict[str, Any]:
    """Current values of ``fields`` for ``conid`` as ``smd`` spells them (no bookkeeping keys).

    Values are strings like the snapshot's, except ``83`` (change %) which the websocket
    sends as a JSON number.
    """
    inst = state.instrument(conid)
    if inst is None:
        return {"55": "-", "31": "N/A"}
    if not state.entitled(conid):
        return {"55": inst.symbol, "31": "N/A"}
    quote = state.market.quote(conid)
    out: dict[str, Any] = {"6509": "RpB"}
    for code in fields:
        formatter = FIELD_CODES.get(code)
        if formatter is None:
            continue
        value = formatter(state, inst, quote)
        if value is None:
            continue
        if code == "83":
            value = float(value)
        out[code] = value
    wanted = fields & _POSITION_CODES
    if wanted:
        for pos in state.engine.positions(state.account_id):
            if pos.conid != conid or pos.quantity == 0:
                continue
            values = {"73": pos.market_value, "74": pos.avg_cost, "75": pos.unrealized_pnl,
                      "78": Decimal(0), "79": pos.realized_pnl}
            for code in wanted:
                out[code] = f"{values[code]:.2f}"
    return out


# ----------------------------------------------------------------------------- sor
def order_row(state: SimState, order: SimOrder) -> dict[str, Any]:
    return live_order_row(order, state.instrument(order.conid))


def order_delta(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any] | None:
    """The keys of ``current`` that differ from ``previous`` (plus ``acct``/``orderId``)."""
    changed = {k: v for k, v in current.items() if previous.get(k) != v}
    if not changed:
        return None
    delta = {k: current[k] for k in _ORDER_KEYS}
    delta.update(changed)
    return delta


# ----------------------------------------------------------------------------- str
def trade_rows(state: SimState, execution: Execution) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two frames' rows of one execution: first without, then with ``commission``."""
    full = trade_row(execution, state.instrument(execution.conid))
    bare = {k: v for k, v in full.items() if k != "commission"}
    return bare, full


# ----------------------------------------------------------------------------- spl
def pnl_args(state: SimState) -> dict[str, Any]:
    """The same partition as ``/iserver/account/pnl/partitioned`` (one source of numbers)."""
    return pnl_partitions(state)


def pnl_frame(state: SimState) -> dict[str, Any]:
    return {"topic": "spl", "args": pnl_args(state)}
