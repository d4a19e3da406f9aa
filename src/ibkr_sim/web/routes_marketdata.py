"""Market data snapshot with IBKR's pre-flight (cpapi.md §5).

The first snapshot request for a conid in a brokerage session only "opens the stream" and
returns ``conid``/``conidEx``; later requests return every field requested so far, so a
client must ask twice.  Values are strings, formatted as the gateway formats them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from ibkr_sim.market import Quote
from ibkr_sim.questions import exchange_display
from ibkr_sim.state import SimState
from ibkr_sim.universe import Instrument
from ibkr_sim.web.errors import ApiError, json_response, read_json
from ibkr_sim.web.guards import need_brokerage, need_warm
from ibkr_sim.web.routes_contracts import parse_conid
from ibkr_sim.web.routing import state_of

__all__ = ["FIELD_CODES", "ROUTES"]

MAX_CONIDS = 100
MAX_FIELDS = 50


def _px(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _size(value: int) -> str:
    return f"{value:,}"


def _volume(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}K"
    return str(value)


def _change(q: Quote) -> str:
    diff = q.last - q.prior_close
    return f"{diff:+.2f}" if diff else "0.00"


def _change_pct(q: Quote) -> str:
    if not q.prior_close:
        return "0.00"
    return f"{(q.last - q.prior_close) / q.prior_close * 100:.2f}"


Formatter = Callable[[SimState, Instrument, Quote], Any]

FIELD_CODES: dict[str, Formatter] = {
    "31": lambda s, i, q: (_px(q.last) if s.market.is_open() else f"C{_px(q.prior_close)}"),
    "55": lambda s, i, q: i.symbol,
    "70": lambda s, i, q: _px(q.high),
    "71": lambda s, i, q: _px(q.low),
    "82": lambda s, i, q: _change(q),
    "83": lambda s, i, q: _change_pct(q),
    "84": lambda s, i, q: _px(q.bid),
    "85": lambda s, i, q: _size(q.ask_size),
    "86": lambda s, i, q: _px(q.ask),
    "87": lambda s, i, q: _volume(q.volume),
    "88": lambda s, i, q: _size(q.bid_size),
    "6004": lambda s, i, q: exchange_display(i.listing_exchange),
    "6008": lambda s, i, q: i.conid,
    "6070": lambda s, i, q: "STK",
    "7051": lambda s, i, q: i.name.upper(),
    "7059": lambda s, i, q: _size(q.last_size),
    "7094": lambda s, i, q: f"{i.conid}@SMART",
    "7184": lambda s, i, q: "1",
    "7219": lambda s, i, q: i.symbol,
    "7220": lambda s, i, q: i.symbol,
    "7221": lambda s, i, q: exchange_display(i.listing_exchange),
    "7295": lambda s, i, q: _px(q.open),
    "7296": lambda s, i, q: _px(q.close),
    "7635": lambda s, i, q: _px(q.mid.quantize(i.tick)),
    "7741": lambda s, i, q: _px(q.prior_close),
    "7762": lambda s, i, q: str(q.volume),
    "7768": lambda s, i, q: "1",
}

_POSITION_FIELDS = {"73", "74", "75", "78", "79"}


def _position_fields(state: SimState, conid: int, wanted: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pos in state.engine.positions(state.account_id):
        if pos.conid != conid or pos.quantity == 0:
            continue
        values = {"73": pos.market_value, "74": pos.avg_cost, "75": pos.unrealized_pnl,
                  "78": Decimal(0), "79": pos.realized_pnl}
        for code in wanted & _POSITION_FIELDS:
            out[code] = f"{values[code]:.2f}"
    return out


def _row(state: SimState, conid: int, fields: set[str], server_id: str) -> dict[str, Any]:
    row: dict[str, Any] = {"conid": conid, "conidEx": str(conid)}
    inst = state.instrument(conid)
    row["_updated"] = int(state.clock.now().timestamp() * 1000)
    row["server_id"] = server_id
    row["6119"] = server_id
    if inst is None or not state.entitled(conid):
        row["55"] = inst.symbol if inst is not None else "-"
        row["31"] = "N/A"
        return row
    quote = state.market.quote(conid)
    row["6509"] = "RpB"
    for code in sorted(fields):
        formatter = FIELD_CODES.get(code)
        if formatter is not None:
            value = formatter(state, inst, quote)
            if value is not None:
                row[code] = value
    row.update(_position_fields(state, conid, fields))
    return row


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


async def snapshot(request: web.Request) -> web.Response:
    state = state_of(request)
    memory = need_warm(state)
    raw_conids = _split(request.query.get("conids", ""))
    if not raw_conids:
        raise ApiError(400, "conids is required, e.g. ?conids=265598&fields=31,84,86")
    if len(raw_conids) > MAX_CONIDS:
        raise ApiError(400, f"at most {MAX_CONIDS} conids per request")
    fields = _split(request.query.get("fields", ""))
    if len(fields) > MAX_FIELDS:
        raise ApiError(400, f"at most {MAX_FIELDS} fields per request")
    for code in fields:
        if not code.isdigit():
            raise ApiError(400, f"field codes are numbers like 31,84,86; got {code!r}")
    conids = [parse_conid(c, "conids") for c in raw_conids]
    out = []
    for conid in conids:
        seen = memory.preflight.get(conid)
        server_id = memory.server_id(conid)
        if seen is None:
            memory.preflight[conid] = set(fields)
            out.append({"conid": conid, "conidEx": str(conid)})
            continue
        seen.update(fields)
        out.append(_row(state, conid, seen, server_id))
    return json_response(out)


async def unsubscribe(request: web.Request) -> web.Response:
    state = state_of(request)
    memory = need_brokerage(state)
    body = await read_json(request)
    if not isinstance(body, dict) or "conid" not in body:
        raise ApiError(400, 'body must be like {"conid": 265598}')
    conid = parse_conid(body["conid"])
    if memory.preflight.pop(conid, None) is None:
        raise ApiError(500, "unknown", with_status_code=False)
    return json_response({"success": True})


async def unsubscribe_all(request: web.Request) -> web.Response:
    state = state_of(request)
    memory = need_brokerage(state)
    memory.preflight.clear()
    return json_response({"unsubscribed": True})


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/iserver/marketdata/snapshot", snapshot),
    ("POST", "/iserver/marketdata/unsubscribe", unsubscribe),
    ("GET", "/iserver/marketdata/unsubscribeall", unsubscribe_all),
]
