"""Server -> client messages of the TWS protocol, as field lists (framing is wire.py's job).

Layouts follow ../shared/ibkr/tws.md §2-3, which lists what IB's own decoder and ib_async
2.1.0 read at each server version; every version-dependent field is gated on ``version`` so
a client that negotiates an older version (ib_insync: 176) still decodes us. Fields the
simulator has no value for are sent empty: both decoders keep their "unset" default then.
Only the counters (legs, params, conditions, secIds) must be real integers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ibkr_sim.engine import AccountState, Execution, SimOrder, SimPosition
from ibkr_sim.tws.wire import Field, ib_time
from ibkr_sim.universe import Instrument

__all__ = [
    "TWS_ORDER_TYPE",
    "OrderIds",
    "account_download_end",
    "account_summary",
    "account_summary_end",
    "account_time",
    "account_value",
    "commission_report",
    "completed_order",
    "completed_orders_end",
    "contract_details",
    "contract_details_end",
    "current_time",
    "error",
    "exec_details",
    "exec_details_end",
    "managed_accounts",
    "next_valid_id",
    "open_order",
    "open_order_end",
    "order_status",
    "portfolio_value",
    "position",
    "position_end",
    "tick_price",
    "tick_size",
    "tick_snapshot_end",
]

#: Engine order type -> the word TWS uses on the wire.
TWS_ORDER_TYPE = {"MKT": "MKT", "LMT": "LMT", "STP": "STP", "STP_LMT": "STP LMT"}
ORDER_TYPES_OFFERED = "ACTIVETIM,AD,ALERT,ALLOC,DAY,GTC,IOC,LMT,MKT,MOC,STP,STPLMT,WHATIF"
VALID_EXCHANGES = "SMART,AMEX,NYSE,ARCA,BATS,ISLAND,IEX"


class OrderIds:
    """How one engine order is named to one TWS client: its per-client ``orderId`` (0 for
    orders of another client or of the Web API), the owning ``clientId`` and ``permId``."""

    __slots__ = ("client_id", "order_id", "perm_id")

    def __init__(self, order_id: int, client_id: int, perm_id: int) -> None:
        self.order_id = order_id
        self.client_id = client_id
        self.perm_id = perm_id


def _contract(conid: int, symbol: str) -> list[Field]:
    """The 11 contract fields openOrder, completedOrder, execDetails and position share."""
    return [conid, symbol, "STK", "", 0, "", "", "SMART", "USD", symbol, "NMS"]


def managed_accounts(accounts: str) -> list[Field]:
    return [15, 1, accounts]


def next_valid_id(order_id: int) -> list[Field]:
    return [9, 1, order_id]


def error(version: int, req_id: int, code: int, text: str) -> list[Field]:
    fields: list[Field] = [4, 2, req_id, code, text]
    if version >= 166:
        fields.append("")  # advancedOrderRejectJson
    return fields


def current_time(when: datetime) -> list[Field]:
    return [49, 1, int(when.timestamp())]


def contract_details(version: int, req_id: int, inst: Instrument) -> list[Field]:
    fields: list[Field] = [10]
    if version < 164:
        fields.append(8)
    fields += [
        req_id, inst.symbol, "STK", "", 0, "", "SMART", inst.currency, inst.symbol,
        "NMS", inst.symbol.replace(" ", "."), inst.conid, inst.tick,
    ]
    if version < 164:
        fields.append(1)  # mdSizeMultiplier
    fields += [
        "", ORDER_TYPES_OFFERED, VALID_EXCHANGES, 1, 0, inst.name, inst.listing_exchange, "",
        "", "", "", "US/Eastern", "", "", "", "", 0,  # numSecIds
        1, "", "", "26", "", "ETF" if inst.is_etf else "COMMON",
    ]
    if version >= 164:
        fields += [Decimal("0.0001"), Decimal("0.0001"), 100]
    return fields


def contract_details_end(req_id: int) -> list[Field]:
    return [52, 1, req_id]


def tick_price(req_id: int, tick_type: int, price: Decimal, size: int) -> list[Field]:
    return [1, 6, req_id, tick_type, price, size, 0]


def tick_size(req_id: int, tick_type: int, size: int) -> list[Field]:
    return [2, 6, req_id, tick_type, size]


def tick_snapshot_end(req_id: int) -> list[Field]:
    return [57, 1, req_id]


def _order_head(order: SimOrder) -> list[Field]:
    return [
        "BUY" if order.side == "BUY" else "SELL",
        order.quantity,
        TWS_ORDER_TYPE[order.order_type],
        order.limit_price,
        order.stop_price,
        order.tif,
        order.oca_group or "",
        order.account,
        "",  # openClose
        0,  # origin: customer
        order.coid or "",
    ]


def open_order(version: int, order: SimOrder, ids: OrderIds, parent_id: int) -> list[Field]:
    f: list[Field] = [5, ids.order_id, *_contract(order.conid, order.symbol)]
    f += _order_head(order)
    f += [ids.client_id, ids.perm_id, order.outside_rth, 0, 0, "", "", "", "", ""]
    if version < 177:
        f.append("")  # faProfile
    f += [
        "", "", "", "", "", 0, "", -1, 0,  # modelCode .. auctionStrategy
        "", "", "", "", "", 0, 0, 0, 0, "",  # startingPrice .. minQty
        3, 0, 0, "", parent_id, 0, "", 0, "", "",  # ocaType .. deltaNeutralAuxPrice
        0, 0, "", "", "", "", "",  # continuousUpdate .. comboLegsDescrip
        0, 0, 0,  # numLegs, numOrderComboLegs, numSmartComboRoutingParams
        "", "", "",  # scale fields
        "",  # hedgeType
        0, "", "IB", 0, 0,  # optOutSmartRouting .. dncPresent
        "",  # algoStrategy
        0, 0, order.status,  # solicited, whatIf, status
        "", "", "", "", "", "", "", "", "",  # margins before/change/after
        "", "", "", "", "",  # commission .. warningText
        0, 0,  # randomizeSize, randomizePrice
        0,  # numConditions
        "", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, 0, 0,
    ]
    if version >= 159:
        f.append("")  # duration
    if version >= 160:
        f.append("")  # postToAts
    if version >= 162:
        f.append(0)  # autoCancelParent
    if version >= 170:
        f += ["", "", "", "", ""]
    return f


def open_order_end() -> list[Field]:
    return [53, 1]


def completed_order(version: int, order: SimOrder, ids: OrderIds) -> list[Field]:
    f: list[Field] = [101, *_contract(order.conid, order.symbol)]
    f += _order_head(order)
    f += [ids.perm_id, order.outside_rth, 0, 0, "", "", "", ""]
    if version < 177:
        f.append("")  # faProfile
    f += [
        "", "", "", "", "", 0, "", -1,  # modelCode .. exemptCode
        "", "", "", "", "", 0, 0, 0, "", 3, 0, "", 0, "", "",  # startingPrice .. dnAuxPrice
        0, 0, "", "", "",  # continuousUpdate .. comboLegsDescrip
        0, 0, 0,  # legs
        "", "", "",  # scale
        "",  # hedgeType
        "", "IB", 0, 0,  # clearingAccount, clearingIntent, notHeld, dncPresent
        "",  # algoStrategy
        0, order.status, 0, 0,  # solicited, status, randomizeSize, randomizePrice
        0,  # numConditions
        "", "", "", 0, 0, "", order.filled_quantity, 0, 0, "", 0, 0, "",
        ib_time(order.updated_at), "Cancelled by Trader" if order.status == "Cancelled"
        else order.status,
    ]
    if version >= 170:
        f += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf
    return f


def completed_orders_end() -> list[Field]:
    return [102]


def order_status(order: SimOrder, ids: OrderIds, parent_id: int) -> list[Field]:
    last = order.avg_fill_price if order.avg_fill_price is not None else Decimal(0)
    return [
        3, ids.order_id, order.status, order.filled_quantity, order.remaining_quantity,
        last, ids.perm_id, parent_id, last, ids.client_id, "", 0,
    ]


def exec_details(version: int, req_id: int, ex: Execution, ids: OrderIds,
                 cum_qty: Decimal, avg_price: Decimal) -> list[Field]:
    f: list[Field] = [11, req_id, ids.order_id, *_contract(ex.conid, ex.symbol)]
    f += [
        ex.execution_id, ib_time(ex.time), ex.account, ex.exchange,
        "BOT" if ex.side == "BUY" else "SLD", ex.quantity, ex.price, ids.perm_id,
        ids.client_id, 0, cum_qty, avg_price, ex.coid or "", "", "", "", 1,
    ]
    if version >= 178:
        f.append(0)  # pendingPriceRevision
    return f


def exec_details_end(req_id: int) -> list[Field]:
    return [55, 1, req_id]


def commission_report(ex: Execution) -> list[Field]:
    return [59, 1, ex.execution_id, ex.commission, "USD", ex.realized_pnl, "", ""]


def position(account: str, pos: SimPosition) -> list[Field]:
    return [61, 3, account, *_contract(pos.conid, pos.symbol), pos.quantity, pos.avg_cost]


def position_end() -> list[Field]:
    return [62, 1]


def account_value(key: str, value: Field, currency: str, account: str) -> list[Field]:
    return [6, 2, key, value, currency, account]


def portfolio_value(account: str, pos: SimPosition, primary: str) -> list[Field]:
    return [
        7, 8, pos.conid, pos.symbol, "STK", "", 0, "", "", primary, "USD", pos.symbol,
        pos.symbol.replace(" ", "."), pos.quantity, pos.market_price, pos.market_value,
        pos.avg_cost, pos.unrealized_pnl, pos.realized_pnl, account,
    ]


def account_time(when: datetime) -> list[Field]:
    return [8, 1, when.strftime("%H:%M")]


def account_download_end(account: str) -> list[Field]:
    return [54, 1, account]


def account_summary(req_id: int, account: str, tag: str, value: Field,
                    currency: str) -> list[Field]:
    return [63, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> list[Field]:
    return [64, 1, req_id]


def account_values(state: AccountState) -> list[tuple[str, Decimal]]:
    """The balances both account updates and the account summary report, by TWS tag."""
    return [
        ("NetLiquidation", state.net_liquidation),
        ("TotalCashValue", state.cash),
        ("BuyingPower", state.buying_power),
        ("AvailableFunds", state.available_funds),
        ("ExcessLiquidity", state.excess_liquidity),
        ("GrossPositionValue", state.gross_position_value),
        ("InitMarginReq", state.init_margin),
        ("MaintMarginReq", state.maint_margin),
        ("RealizedPnL", state.realized_pnl),
        ("UnrealizedPnL", state.unrealized_pnl),
    ]
