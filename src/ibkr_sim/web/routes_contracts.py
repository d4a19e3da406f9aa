"""Contract lookups (cpapi.md §4) over the shipped universe.

Quirk kept on purpose: ``/iserver/secdef/search`` sends ``conid`` as a *string*, every other
endpoint as an int; clients that forget this break on the real gateway too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ibkr_sim.questions import exchange_display
from ibkr_sim.state import SimState
from ibkr_sim.universe import Instrument
from ibkr_sim.web.errors import ApiError, json_response, read_json
from ibkr_sim.web.guards import need_brokerage, need_portal
from ibkr_sim.web.routing import state_of

__all__ = ["ROUTES", "parse_conid"]

MAX_SECDEF_CONIDS = 200
UNAVAILABLE = (
    '{"reason":"Details currently unavailable. Please try again later and contact client '
    'services if the issue persists."}'
)
VALID_EXCHANGES = "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,ISLAND,DRCTEDGE,BEX,BATS,EDGEA,IEX"


def parse_conid(raw: object, what: str = "conid") -> int:
    """An int conid from JSON or a path/query string; IBKR-style 400 when it is not one."""
    if isinstance(raw, bool):
        raise ApiError(400, f"{what} must be an integer contract id, got {raw!r}")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        raise ApiError(400, f"{what} must be an integer contract id, got {raw!r}")
    if value <= 0:
        raise ApiError(400, f"{what} must be positive, got {value}")
    return value


def _search_row(inst: Instrument) -> dict[str, Any]:
    return {
        "conid": str(inst.conid),
        "companyHeader": f"{inst.name.upper()} - {inst.listing_exchange}",
        "companyName": inst.name.upper(),
        "symbol": inst.symbol,
        "description": inst.listing_exchange,
        "restricted": None,
        "sections": [{"secType": "STK"}],
    }


async def secdef_search(request: web.Request) -> web.Response:
    state = state_of(request)
    need_brokerage(state)
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, 'body must be a JSON object like {"symbol": "AAPL"}')
        params.update(body)
    symbol = params.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise ApiError(400, "symbol is required, e.g. ?symbol=AAPL")
    sec_type = str(params.get("secType", "STK")).upper()
    if sec_type not in ("STK", "IND", "BOND"):
        raise ApiError(400, f"secType must be STK, IND or BOND, got {sec_type!r}")
    if sec_type != "STK":
        return json_response([])
    by_name = str(params.get("name", "false")).lower() == "true"
    if by_name:
        lowered = symbol.strip().lower()
        found = [i for i in state.universe.all() if lowered in i.name.lower()]
    else:
        found = state.universe.by_symbol(symbol) or state.universe.search(symbol)
    return json_response([_search_row(i) for i in found[:50]])


def _lookup(state: SimState, conid: int) -> Instrument:
    inst = state.instrument(conid)
    if inst is None:
        raise ApiError(500, UNAVAILABLE, with_status_code=False)
    return inst


async def contract_info(request: web.Request) -> web.Response:
    state = state_of(request)
    need_brokerage(state)
    inst = _lookup(state, parse_conid(request.match_info["conid"]))
    return json_response({
        "cfi_code": "", "symbol": inst.symbol, "cusip": None, "expiry_full": None,
        "con_id": inst.conid, "maturity_date": None, "industry": inst.sector or None,
        "instrument_type": "STK", "trading_class": "NMS" if inst.listing_exchange == "NASDAQ"
        else inst.symbol, "valid_exchanges": VALID_EXCHANGES, "allow_sell_long": False,
        "is_zero_commission_security": False, "local_symbol": inst.symbol,
        "contract_clarification_type": None, "classifier": None, "currency": inst.currency,
        "text": None, "underlying_con_id": 0, "r_t_h": True, "multiplier": None,
        "underlying_issuer": None, "contract_month": None,
        "company_name": inst.name.upper(), "smart_available": True, "exchange": "SMART",
        "category": inst.sector or None, "has_related_contracts": False,
    })


async def trsrv_stocks(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    raw = request.query.get("symbols", "")
    symbols = [s.strip() for s in raw.split(",") if s.strip()]
    if not symbols:
        raise ApiError(400, "symbols is required, e.g. ?symbols=AAPL,MSFT")
    out: dict[str, Any] = {}
    for symbol in symbols:
        found = state.universe.by_symbol(symbol)
        out[symbol.upper()] = [
            {"name": inst.name.upper(), "chineseName": None, "assetClass": "STK",
             "contracts": [{"conid": inst.conid, "exchange": inst.listing_exchange,
                            "isUS": True}]}
            for inst in found
        ]
    return json_response(out)


async def trsrv_secdef(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    if request.method == "POST":
        body = await read_json(request)
        raw_list = body.get("conids") if isinstance(body, dict) else None
        if not isinstance(raw_list, list):
            raise ApiError(400, 'body must be like {"conids": [265598]}')
        conids = [parse_conid(c) for c in raw_list]
    else:
        text = request.query.get("conids", "")
        conids = [parse_conid(c) for c in text.split(",") if c.strip()]
    if not conids:
        raise ApiError(400, "conids is required, e.g. ?conids=265598")
    if len(conids) > MAX_SECDEF_CONIDS:
        raise ApiError(400, f"at most {MAX_SECDEF_CONIDS} conids per request")
    rows = []
    for conid in conids:
        inst = state.instrument(conid)
        if inst is None:
            continue
        rows.append({
            "conid": inst.conid, "currency": inst.currency, "crossCurrency": False,
            "time": 0, "chineseName": None, "allExchanges": VALID_EXCHANGES,
            "listingExchange": exchange_display(inst.listing_exchange),
            "name": inst.name.upper(), "assetClass": "STK", "expiry": None,
            "lastTradingDay": None, "group": None, "putOrCall": None, "sector": inst.sector or None,
            "sectorGroup": None, "strike": "0", "ticker": inst.symbol, "undConid": 0,
            "multiplier": 0.0, "type": "ETF" if inst.is_etf else "COMMON", "hasOptions": False,
            "fullName": inst.symbol, "isUS": True,
            "incrementRules": [{"lowerEdge": 0.0, "increment": float(inst.tick)}],
            "isEventContract": False,
        })
    return json_response({"secdef": rows})


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/iserver/secdef/search", secdef_search),
    ("POST", "/iserver/secdef/search", secdef_search),
    ("GET", "/iserver/contract/{conid}/info", contract_info),
    ("GET", "/trsrv/stocks", trsrv_stocks),
    ("GET", "/trsrv/secdef", trsrv_secdef),
    ("POST", "/trsrv/secdef", trsrv_secdef),
]
