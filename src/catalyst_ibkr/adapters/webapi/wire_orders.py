"""Order payloads of the Client Portal Web API (cpapi.md §6), named as IBKR names them.

``OrderRequest`` is our input model (validated before any I/O, ``to_wire`` gives IBKR's
JSON); the rest are answers: place/reply/modify items, live orders, order status, cancel,
trades and what-if.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .wire_base import ConId, WireDecimal, WireOrderId
from .wire_base import WireModel as _Wire

__all__ = [
    "CancelResponse",
    "LiveOrder",
    "LiveOrders",
    "OrderQuestion",
    "OrderRequest",
    "OrderStatus",
    "OrderSubmitted",
    "Trade",
    "WhatIf",
    "WhatIfAmount",
    "WhatIfChange",
]


# -- orders ---------------------------------------------------------------------------------


class OrderRequest(BaseModel):
    """One order as ``POST /iserver/account/{acct}/orders`` expects it (our input model).

    ``cOID`` is mandatory here: every order we send must be findable again (reliability
    (a) 25). Validation rejects impossible orders before any I/O.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    acctId: str | None = None
    conid: int = Field(gt=0)
    cOID: str = Field(min_length=1, max_length=64)
    side: str = Field(pattern=r"^(BUY|SELL)$")
    orderType: str = Field(pattern=r"^(MKT|LMT|STP|STOP_LIMIT|MIDPRICE|TRAIL|TRAILLMT)$")
    quantity: Decimal = Field(gt=0)
    price: Decimal | None = Field(default=None, gt=0)
    auxPrice: Decimal | None = Field(default=None, gt=0)
    tif: str = Field(default="DAY", pattern=r"^(DAY|GTC|IOC|OPG|PAX|OVT|OND)$")
    outsideRTH: bool = False
    listingExchange: str | None = None
    parentId: str | None = None
    isSingleGroup: bool | None = None
    referrer: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON object IBKR wants: numbers as JSON numbers, unset keys omitted."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_none=True).items():
            out[key] = _json_number(value) if isinstance(value, Decimal) else value
        return out


def _json_number(value: Decimal) -> int | float:
    """Decimal -> a JSON number whose text is exactly the decimal (or refuse).

    ``json.dumps`` writes a float by its shortest repr, so for up to 15 significant
    digits the text on the wire equals the Decimal; beyond that we refuse rather than
    send a different price.
    """
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise ValueError(f"{value} cannot be sent exactly as a JSON number")
    return as_float


class OrderSubmitted(_Wire):
    """An accepted order in a place/reply/modify answer."""

    order_id: WireOrderId
    order_status: str | None = None
    encrypt_message: str | None = None
    local_order_id: str | None = None


class OrderQuestion(_Wire):
    """A question IBKR wants answered via ``/iserver/reply/{id}`` before it accepts."""

    id: str
    message: list[str] = Field(default_factory=list)
    messageIds: list[str] = Field(default_factory=list)
    isSuppressed: bool | None = None
    messageOptions: list[str] = Field(default_factory=list)


class LiveOrder(_Wire):
    acct: str | None = None
    account: str | None = None
    conid: ConId | None = None
    conidex: str | None = None
    orderId: WireOrderId
    order_ref: str | None = None
    ticker: str | None = None
    side: str | None = None
    status: str | None = None
    order_ccp_status: str | None = None
    orderType: str | None = None
    origOrderType: str | None = None
    totalSize: WireDecimal = None
    filledQuantity: WireDecimal = None
    remainingQuantity: WireDecimal = None
    price: WireDecimal = None
    avgPrice: WireDecimal = None
    timeInForce: str | None = None
    lastExecutionTime_r: int | None = None


class LiveOrders(_Wire):
    orders: list[LiveOrder] = Field(default_factory=list)
    snapshot: bool | None = None


class OrderStatus(_Wire):
    """``/iserver/account/order/status/{orderId}`` (snake_case)."""

    order_id: WireOrderId
    conid: ConId | None = None
    symbol: str | None = None
    side: str | None = None
    order_status: str | None = None
    order_type: str | None = None
    total_size: WireDecimal = None
    cum_fill: WireDecimal = None
    size: WireDecimal = None
    average_price: WireDecimal = None
    limit_price: WireDecimal = None
    tif: str | None = None
    account: str | None = None


class CancelResponse(_Wire):
    msg: str | None = None
    order_id: WireOrderId | None = None
    conid: ConId | None = None
    account: str | None = None


class Trade(_Wire):
    execution_id: str
    symbol: str | None = None
    side: str | None = None
    order_description: str | None = None
    trade_time: str | None = None
    trade_time_r: int | None = None
    size: WireDecimal = None
    price: WireDecimal = None
    order_ref: str | None = None
    commission: WireDecimal = None
    net_amount: WireDecimal = None
    account: str | None = None
    conid: ConId | None = None
    order_id: WireOrderId | None = None


class WhatIfAmount(_Wire):
    amount: str | None = None
    commission: str | None = None
    total: str | None = None


class WhatIfChange(_Wire):
    current: str | None = None
    change: str | None = None
    after: str | None = None


class WhatIf(_Wire):
    amount: WhatIfAmount | None = None
    equity: WhatIfChange | None = None
    initial: WhatIfChange | None = None
    maintenance: WhatIfChange | None = None
    position: WhatIfChange | None = None
    warn: str | None = None
    error: str | None = None
