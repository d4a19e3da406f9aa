"""Pydantic v2 models of the Client Portal Web API payloads, named as IBKR names them.

Field names follow the wire (``conidEx``, ``order_id``, ``sizeAndFills``) so a reader can
hold a model next to IBKR's docs or cpapi.md. Models accept what real gateways send, not
what the docs promise (cpapi.md §1 "type quirks"):

- ``conid`` arrives as int or string -> ``ConId`` (int);
- ``order_id`` is a string in place/reply answers, an int elsewhere -> ``WireOrderId`` (int);
- prices and sizes arrive as strings, sometimes with thousands commas ("1,300"), as
  JSON numbers, or as placeholders ("N/A", "-", "") -> ``WireDecimal`` (Decimal | None).
  JSON numbers are converted through their shortest ``repr`` so no binary float noise
  leaks in.
- Market-data values keep their raw strings (``SnapshotRow.fields``) because a ``C``/``H``
  prefix carries meaning (closed / halted); ``parse.py`` interprets them.

Unknown keys are kept (``extra="allow"``) so a new gateway build does not break parsing;
payloads that carry credentials (``/sso/validate``) drop them instead (``extra="ignore"``).
Outgoing order bodies are built by ``OrderRequest.to_wire``. The shared scalar types live in
``wire_base`` and the order payloads in ``wire_orders``; both are re-exported here.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from .wire_base import ConId, WireDecimal, WireOrderId, decimal_or_none
from .wire_base import WireModel as _Wire
from .wire_orders import (
    CancelResponse,
    LiveOrder,
    LiveOrders,
    OrderQuestion,
    OrderRequest,
    OrderStatus,
    OrderSubmitted,
    Trade,
    WhatIf,
)

__all__ = [
    "AuthStatus",
    "CancelResponse",
    "ConId",
    "ContractInfo",
    "HistoryBar",
    "HistoryResponse",
    "IServerAccounts",
    "LedgerEntry",
    "LiveOrder",
    "LiveOrders",
    "OrderQuestion",
    "OrderRequest",
    "OrderStatus",
    "OrderSubmitted",
    "PnlPartitioned",
    "PnlRow",
    "PortfolioAccount",
    "Position",
    "SecdefSearchRow",
    "ServerInfo",
    "SnapshotRow",
    "SsoValidate",
    "StatusMessage",
    "StockContract",
    "StockEntry",
    "SummaryValue",
    "TickleResponse",
    "Trade",
    "TrsrvSecdef",
    "WhatIf",
    "WireDecimal",
    "WireOrderId",
    "decimal_or_none",
]


# -- session --------------------------------------------------------------------------------


class ServerInfo(_Wire):
    serverName: str | None = None
    serverVersion: str | None = None


class AuthStatus(_Wire):
    """``/iserver/auth/status``, ``ssodh/init`` and ``tickle.iserver.authStatus``."""

    authenticated: bool = False
    connected: bool = False
    competing: bool = False
    established: bool | None = None
    message: str | None = None
    fail: str | None = None
    serverInfo: ServerInfo | None = None

    @property
    def healthy(self) -> bool:
        return self.authenticated and self.connected and not self.competing


class _IServer(_Wire):
    authStatus: AuthStatus | None = None


class TickleResponse(_Wire):
    """``/tickle``. ``session`` is a secret (WS cookie): never log this model."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    session: str | None = Field(default=None, repr=False)
    ssoExpires: int | None = None
    collission: bool | None = None
    iserver: _IServer | None = None
    error: str | None = None

    @property
    def auth(self) -> AuthStatus | None:
        return None if self.iserver is None else self.iserver.authStatus


class SsoValidate(_Wire):
    """``/sso/validate`` minus the identity fields (user name, credential, IP are dropped)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    RESULT: bool = False
    EXPIRES: int | None = None
    LOGIN_TYPE: int | None = None


class StatusMessage(_Wire):
    """``{"status": ...}`` / ``{"message": ...}`` acknowledgements (logout, suppress, reauth)."""

    status: bool | str | None = None
    message: str | None = None


# -- accounts and portfolio -----------------------------------------------------------------


class IServerAccounts(_Wire):
    accounts: list[str] = Field(default_factory=list)
    selectedAccount: str | None = None
    isPaper: bool | None = None
    serverInfo: ServerInfo | None = None


class PortfolioAccount(_Wire):
    id: str | None = None
    accountId: str | None = None
    currency: str | None = None
    type: str | None = None
    faclient: bool | None = None


class SummaryValue(_Wire):
    amount: WireDecimal = None
    currency: str | None = None
    isNull: bool | None = None
    timestamp: int | None = None
    value: str | None = None
    severity: int | None = None


class LedgerEntry(_Wire):
    currency: str | None = None
    cashbalance: WireDecimal = None
    settledcash: WireDecimal = None
    netliquidationvalue: WireDecimal = None
    stockmarketvalue: WireDecimal = None
    unrealizedpnl: WireDecimal = None
    realizedpnl: WireDecimal = None
    exchangerate: WireDecimal = None
    timestamp: int | None = None


class Position(_Wire):
    acctId: str | None = None
    conid: ConId
    contractDesc: str | None = None
    ticker: str | None = None
    position: WireDecimal = None
    mktPrice: WireDecimal = None
    mktValue: WireDecimal = None
    currency: str | None = None
    avgCost: WireDecimal = None
    avgPrice: WireDecimal = None
    realizedPnl: WireDecimal = None
    unrealizedPnl: WireDecimal = None
    assetClass: str | None = None


class PnlRow(_Wire):
    rowType: int | None = None
    dpl: WireDecimal = None
    nl: WireDecimal = None
    upl: WireDecimal = None
    el: WireDecimal = None
    mv: WireDecimal = None


class PnlPartitioned(_Wire):
    upnl: dict[str, PnlRow] = Field(default_factory=dict)


# -- contracts ------------------------------------------------------------------------------


class SecdefSearchRow(_Wire):
    conid: ConId | None = None
    companyHeader: str | None = None
    companyName: str | None = None
    symbol: str | None = None
    description: str | None = None
    restricted: str | bool | None = None
    sections: list[dict[str, Any]] = Field(default_factory=list)


class ContractInfo(_Wire):
    """``/iserver/contract/{conid}/info`` (snake_case on the wire)."""

    con_id: ConId
    symbol: str | None = None
    company_name: str | None = None
    instrument_type: str | None = None
    currency: str | None = None
    exchange: str | None = None
    valid_exchanges: str | None = None
    local_symbol: str | None = None
    multiplier: WireDecimal = None


class StockContract(_Wire):
    conid: ConId
    exchange: str | None = None
    isUS: bool | None = None


class StockEntry(_Wire):
    """One issuer row of ``/trsrv/stocks`` (``{"AAPL": [StockEntry, ...]}``)."""

    name: str | None = None
    assetClass: str | None = None
    contracts: list[StockContract] = Field(default_factory=list)


class TrsrvSecdef(_Wire):
    conid: ConId
    ticker: str | None = None
    name: str | None = None
    assetClass: str | None = None
    listingExchange: str | None = None
    currency: str | None = None


# -- market data ----------------------------------------------------------------------------


class SnapshotRow(_Wire):
    """One conid of ``/iserver/marketdata/snapshot``; field codes stay raw in ``fields``."""

    conid: ConId
    conidEx: str | None = None
    updated: int | None = Field(default=None, alias="_updated")
    server_id: str | None = None

    @property
    def fields(self) -> dict[str, Any]:
        """The numeric-code fields ("31", "84", ...) exactly as sent."""
        extra = self.model_extra or {}
        return {k: v for k, v in extra.items() if k.isdigit()}


class HistoryBar(_Wire):
    o: WireDecimal = None
    c: WireDecimal = None
    h: WireDecimal = None
    l: WireDecimal = None  # noqa: E741 - IBKR's name
    v: WireDecimal = None
    t: int


class HistoryResponse(_Wire):
    serverId: str | None = None
    symbol: str | None = None
    text: str | None = None
    timePeriod: str | None = None
    barLength: int | None = None
    outsideRth: bool | None = None
    data: list[HistoryBar] = Field(default_factory=list)
