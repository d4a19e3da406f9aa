"""Accounts and portfolio (cpapi.md §3): shapes and number types as the gateway sends them.

Money is ``Decimal`` inside the engine; the wire carries JSON numbers here because IBKR
does (summary ``amount``, ledger values, position rows).  Conversion happens only at this edge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from ibkr_sim.session import SERVER_INFO
from ibkr_sim.state import SimState
from ibkr_sim.web.errors import ApiError, json_response, read_json
from ibkr_sim.web.guards import need_account, need_brokerage, need_portal
from ibkr_sim.web.pnl_view import pnl_partitions
from ibkr_sim.web.routing import state_of

__all__ = ["ROUTES"]

PAGE_SIZE = 100


def iserver_accounts_body(state: SimState) -> dict[str, Any]:
    acct = state.account_id
    return {
        "accounts": [acct],
        "acctProps": {acct: {"hasChildAccounts": False, "supportsCashQty": True,
                             "noFXConv": False, "isProp": False, "supportsFractions": False,
                             "allowCustomerTime": False}},
        "aliases": {acct: acct},
        "allowFeatures": {"showGFIS": True, "allowFXConv": True, "allowMTA": True,
                          "snapshotRefreshTimeout": 30, "liteUser": False,
                          "allowCrypto": False, "allowedAssetTypes": "STK"},
        "chartPeriods": {"STK": ["*"]},
        "groups": [],
        "profiles": [],
        "selectedAccount": acct,
        "serverInfo": dict(SERVER_INFO),
        "sessionId": f"{state.session.session_id[:7]}.{state.session.generation:08d}",
        "isFT": False,
        "isPaper": True,
    }


async def iserver_accounts(request: web.Request) -> web.Response:
    state = state_of(request)
    memory = need_brokerage(state)
    memory.accounts_warmed = True
    return json_response(iserver_accounts_body(state))


def portfolio_account_row(state: SimState) -> dict[str, Any]:
    acct = state.account_id
    return {
        "id": acct, "PrepaidCrypto-Z": False, "PrepaidCrypto-P": False,
        "brokerageAccess": True, "accountId": acct, "accountVan": acct, "accountTitle": "",
        "displayName": acct, "accountAlias": None, "accountStatus": 1644814800000,
        "currency": "USD", "type": "DEMO", "tradingType": "PMRGN",
        "businessType": "IB_PROSERVE", "ibEntity": "IBLLC-US", "faclient": False,
        "clearingStatus": "O", "covestor": False, "noClientTrading": False,
        "trackVirtualFXPortfolio": True, "acctCustType": "INDIVIDUAL",
        "parent": {"mmc": [], "accountId": "", "isMParent": False, "isMChild": False,
                   "isMultiplex": False},
        "desc": acct,
    }


async def portfolio_accounts(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    if state.session.brokerage_ok:
        # UNVERIFIED: the real gateway may demand /iserver/accounts itself; we accept this
        # call as the warm-up too so clients written like the seed's work (docs/simulator.md).
        state.memory().accounts_warmed = True
    return json_response([portfolio_account_row(state)])


def _entry(state: SimState, amount: Decimal | float, *, value: str | None = None,
           currency: str | None = "USD") -> dict[str, Any]:
    return {
        "amount": float(amount), "currency": currency, "isNull": False,
        "timestamp": int(state.clock.now().timestamp()) * 1000, "value": value, "severity": 0,
    }


async def summary(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    need_account(state, request.match_info["account"])
    acct = state.engine.account(state.account_id)
    out: dict[str, Any] = {
        "accountcode": _entry(state, 0, value=state.account_id, currency=None),
        "accountready": _entry(state, 0, value="true", currency=None),
        "accounttype": _entry(state, 0, value="INDIVIDUAL", currency=None),
        "segmenttitle-s": _entry(state, 0, value="US Securities", currency=None),
        "tradingtype-s": _entry(state, 0, value="STKMRGN", currency=None),
    }
    money = {
        "netliquidation": acct.net_liquidation,
        "totalcashvalue": acct.cash,
        "grosspositionvalue": acct.gross_position_value,
        "buyingpower": acct.buying_power,
        "availablefunds": acct.available_funds,
        "excessliquidity": acct.excess_liquidity,
        "equitywithloanvalue": acct.net_liquidation,
        "fullavailablefunds": acct.available_funds,
        "fullexcessliquidity": acct.excess_liquidity,
        "initmarginreq": Decimal(0),
        "maintmarginreq": Decimal(0),
        "accruedcash": Decimal(0),
    }
    for key, amount in money.items():
        out[key] = _entry(state, amount)
        if key not in ("buyingpower", "fullavailablefunds", "fullexcessliquidity", "accruedcash"):
            out[f"{key}-s"] = _entry(state, amount)
    return json_response(out)


async def ledger(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    need_account(state, request.match_info["account"])
    acct = state.engine.account(state.account_id)
    stock_value = sum(
        (p.market_value for p in state.engine.positions(state.account_id)), Decimal(0)
    )
    stamp = int(state.clock.now().timestamp())

    def row(currency: str, last: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "commoditymarketvalue": 0.0, "futuremarketvalue": 0.0,
            "settledcash": float(acct.cash), "exchangerate": 1,
            "sessionid": 1, "cashbalance": float(acct.cash),
            "corporatebondsmarketvalue": 0.0, "warrantsmarketvalue": 0.0,
            "netliquidationvalue": float(acct.net_liquidation), "interest": 0.0,
            "unrealizedpnl": float(acct.unrealized_pnl), "stockmarketvalue": float(stock_value),
            "moneyfunds": 0.0, "currency": currency, "realizedpnl": float(acct.realized_pnl),
            "funds": 0.0, "acctcode": state.account_id, "issueroptionsmarketvalue": 0.0,
            "key": "LedgerList", "timestamp": stamp, "severity": 0,
            "stockoptionmarketvalue": 0.0, "futuresonlypnl": 0.0, "tbondsmarketvalue": 0.0,
            "futureoptionmarketvalue": 0.0, "cashbalancefxsegment": 0.0, "secondkey": currency,
            "tbillsmarketvalue": 0.0, "dividends": 0.0, "cryptocurrencyvalue": 0.0,
        }
        if last:
            body["endofbundle"] = 1
        return body

    return json_response({"USD": row("USD", False), "BASE": row("BASE", True)})


def position_row(state: SimState, position: Any) -> dict[str, Any]:
    inst = state.instrument(position.conid)
    name = inst.name if inst else position.symbol
    listing = inst.listing_exchange if inst else "SMART"
    return {
        "acctId": state.account_id, "conid": position.conid, "contractDesc": position.symbol,
        "position": float(position.quantity), "mktPrice": float(position.market_price),
        "mktValue": float(position.market_value), "currency": "USD",
        "avgCost": float(position.avg_cost), "avgPrice": float(position.avg_cost),
        "realizedPnl": float(position.realized_pnl),
        "unrealizedPnl": float(position.unrealized_pnl), "exchs": None, "expiry": None,
        "putOrCall": None, "multiplier": 0.0, "strike": "0", "exerciseStyle": None,
        "conExchMap": [], "assetClass": "STK", "undConid": 0, "model": "", "time": 10,
        "chineseName": None, "allExchanges": "SMART," + listing, "listingExchange": listing,
        "countryCode": "US", "name": name.upper(), "lastTradingDay": None, "group": None,
        "sector": inst.sector if inst and inst.sector else None, "sectorGroup": None,
        "ticker": position.symbol, "type": "ETF" if inst and inst.is_etf else "COMMON",
        "hasOptions": False, "fullName": position.symbol, "isUS": True,
        "incrementRules": [{"lowerEdge": 0.0, "increment": 0.01}],
        "displayRule": {"magnification": 0, "displayRuleStep": [
            {"decimalDigits": 2, "lowerEdge": 0.0, "wholeDigits": 4}]},
        "isEventContract": False, "pageSize": PAGE_SIZE,
    }


async def positions(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    need_account(state, request.match_info["account"])
    try:
        page = int(request.match_info["page"])
    except ValueError as exc:
        raise ApiError(400, "page must be a whole number >= 0") from exc
    if page < 0:
        raise ApiError(400, "page must be a whole number >= 0")
    rows = [p for p in state.engine.positions(state.account_id) if p.quantity != 0]
    chunk = rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    return json_response([position_row(state, p) for p in chunk])


async def positions_invalidate(request: web.Request) -> web.Response:
    state = state_of(request)
    need_portal(state)
    need_account(state, request.match_info["account"])
    return json_response({"message": "success"})


async def switch_account(request: web.Request) -> web.Response:
    state = state_of(request)
    need_brokerage(state)
    body = await read_json(request)
    acct = body.get("acctId") if isinstance(body, dict) else None
    if not isinstance(acct, str):
        raise ApiError(400, 'body must be like {"acctId": "DU1234567"}')
    need_account(state, acct)
    return json_response({"set": True, "acctId": acct})


async def pnl_partitioned(request: web.Request) -> web.Response:
    state = state_of(request)
    need_brokerage(state)
    # one source for REST and the websocket's spl frames (ibkr_sim.web.pnl_view)
    return json_response({"upnl": pnl_partitions(state)})


ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/iserver/account", switch_account),
    ("GET", "/iserver/account/pnl/partitioned", pnl_partitioned),
    ("GET", "/iserver/accounts", iserver_accounts),
    ("GET", "/portfolio/accounts", portfolio_accounts),
    ("GET", "/portfolio/{account}/summary", summary),
    ("GET", "/portfolio/{account}/ledger", ledger),
    ("GET", "/portfolio/{account}/positions/{page}", positions),
    ("POST", "/portfolio/{account}/positions/invalidate", positions_invalidate),
]
