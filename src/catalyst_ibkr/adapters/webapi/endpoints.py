"""The raw Client Portal endpoint client: one async method per endpoint, wire models out.

Nothing here interprets results for the domain (that is ``parse.py``) or decides order
policy such as which questions to confirm (the broker adapter does). Each method only
states the endpoint's path, its pacing priority and its retry class (``CallKind``); the
``Transport`` applies them. Paths are relative to the client's base URL ``.../v1/api``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import OrderRejected, OutcomeUnknown, ProtocolError
from .pacing import Priority
from .transport import Call, CallKind, Transport, error_text
from .wire import (
    AuthStatus,
    CancelResponse,
    ContractInfo,
    HistoryResponse,
    IServerAccounts,
    LedgerEntry,
    LiveOrders,
    OrderQuestion,
    OrderRequest,
    OrderStatus,
    OrderSubmitted,
    PnlPartitioned,
    PortfolioAccount,
    Position,
    SecdefSearchRow,
    SnapshotRow,
    SsoValidate,
    StatusMessage,
    StockEntry,
    SummaryValue,
    TickleResponse,
    Trade,
    TrsrvSecdef,
    WhatIf,
)

__all__ = ["MAX_SECDEF_CONIDS", "MAX_SNAPSHOT_CONIDS", "OrderAnswer", "WebApiClient"]

M = TypeVar("M")

#: one answer to place / reply / modify: accepted orders and/or questions to answer
OrderAnswer = list[OrderSubmitted | OrderQuestion]

MAX_SNAPSHOT_CONIDS = 100
MAX_SNAPSHOT_FIELDS = 50
MAX_SECDEF_CONIDS = 200

_ORDER_ITEM: TypeAdapter[OrderSubmitted | OrderQuestion] = TypeAdapter(
    OrderSubmitted | OrderQuestion
)


def _model(adapter: TypeAdapter[M], payload: Any, where: str) -> M:
    try:
        return adapter.validate_python(payload)
    except ValidationError as exc:
        raise ProtocolError(
            f"unexpected shape from {where}: {exc.error_count()} field error(s), first at "
            f"{'.'.join(str(p) for p in exc.errors()[0]['loc']) or '<root>'}"
        ) from exc


def _ids(values: Iterable[int | str]) -> str:
    return ",".join(str(v) for v in values)


class WebApiClient:
    """Typed access to every endpoint the adapter uses."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        transport.on_accounts_first = self._warm_accounts

    async def _call(self, call: Call) -> Any:
        return await self.transport.call(call)

    async def _get(
        self, path: str, priority: Priority, *, params: dict[str, str] | None = None
    ) -> Any:
        return await self._call(Call("GET", path, priority, CallKind.READ, params=params))

    async def _warm_accounts(self) -> None:
        await self.iserver_accounts()

    # -- session --------------------------------------------------------------------------

    async def auth_status(self) -> AuthStatus:
        data = await self._call(
            Call("POST", "/iserver/auth/status", Priority.ACCOUNT, CallKind.READ, recover=False)
        )
        return _model(TypeAdapter(AuthStatus), data or {}, "/iserver/auth/status")

    async def tickle(self) -> TickleResponse:
        data = await self._call(
            Call("POST", "/tickle", Priority.ACCOUNT, CallKind.READ, recover=False)
        )
        return _model(TypeAdapter(TickleResponse), data or {}, "/tickle")

    async def sso_validate(self) -> SsoValidate:
        data = await self._call(
            Call("GET", "/sso/validate", Priority.ACCOUNT, CallKind.READ, recover=False)
        )
        return _model(TypeAdapter(SsoValidate), data or {}, "/sso/validate")

    async def ssodh_init(self, *, compete: bool) -> AuthStatus:
        """Open the brokerage session; ``compete`` takes it over from other platforms."""
        data = await self._call(
            Call(
                "POST",
                "/iserver/auth/ssodh/init",
                Priority.ACCOUNT,
                CallKind.ONCE,
                body={"publish": True, "compete": compete},
                recover=False,
            )
        )
        return _model(TypeAdapter(AuthStatus), data or {}, "ssodh/init")

    async def reauthenticate(self) -> StatusMessage:
        data = await self._call(
            Call("POST", "/iserver/reauthenticate", Priority.ACCOUNT, CallKind.ONCE, recover=False)
        )
        return _model(TypeAdapter(StatusMessage), data or {}, "reauthenticate")

    async def logout(self) -> StatusMessage:
        data = await self._call(
            Call("POST", "/logout", Priority.ACCOUNT, CallKind.ONCE, recover=False)
        )
        return _model(TypeAdapter(StatusMessage), data or {}, "/logout")

    # -- accounts and portfolio -----------------------------------------------------------

    async def iserver_accounts(self) -> IServerAccounts:
        """The brokerage warm-up call; a fresh session may answer with an empty body."""
        data = await self._get("/iserver/accounts", Priority.ACCOUNT)
        return _model(TypeAdapter(IServerAccounts), data or {}, "/iserver/accounts")

    async def portfolio_accounts(self) -> list[PortfolioAccount]:
        data = await self._get("/portfolio/accounts", Priority.ACCOUNT)
        return _model(TypeAdapter(list[PortfolioAccount]), data or [], "/portfolio/accounts")

    async def account_summary(self, account_id: str) -> dict[str, SummaryValue]:
        path = f"/portfolio/{account_id}/summary"
        data = await self._get(path, Priority.ACCOUNT)
        return _model(TypeAdapter(dict[str, SummaryValue]), data or {}, path)

    async def ledger(self, account_id: str) -> dict[str, LedgerEntry]:
        path = f"/portfolio/{account_id}/ledger"
        data = await self._get(path, Priority.ACCOUNT)
        return _model(TypeAdapter(dict[str, LedgerEntry]), data or {}, path)

    async def positions(self, account_id: str, page: int = 0) -> list[Position]:
        path = f"/portfolio/{account_id}/positions/{page}"
        data = await self._get(path, Priority.ACCOUNT)
        return _model(TypeAdapter(list[Position]), data or [], path)

    async def pnl_partitioned(self) -> PnlPartitioned:
        path = "/iserver/account/pnl/partitioned"
        data = await self._get(path, Priority.ACCOUNT)
        return _model(TypeAdapter(PnlPartitioned), data or {}, path)

    # -- contracts ------------------------------------------------------------------------

    async def secdef_search(
        self, symbol: str, sec_type: str = "STK", *, by_name: bool = False
    ) -> list[SecdefSearchRow]:
        params = {"symbol": symbol, "secType": sec_type}
        if by_name:
            params["name"] = "true"
        data = await self._get("/iserver/secdef/search", Priority.MARKET_DATA, params=params)
        return _model(TypeAdapter(list[SecdefSearchRow]), data or [], "/iserver/secdef/search")

    async def contract_info(self, conid: int) -> ContractInfo:
        path = f"/iserver/contract/{conid}/info"
        data = await self._get(path, Priority.MARKET_DATA)
        return _model(TypeAdapter(ContractInfo), data, path)

    async def trsrv_stocks(self, symbols: Sequence[str]) -> dict[str, list[StockEntry]]:
        """Many symbols in one request (no brokerage session needed)."""
        if not symbols:
            return {}
        data = await self._get(
            "/trsrv/stocks", Priority.MARKET_DATA, params={"symbols": ",".join(symbols)}
        )
        return _model(TypeAdapter(dict[str, list[StockEntry]]), data or {}, "/trsrv/stocks")

    async def trsrv_secdef(self, conids: Sequence[int]) -> list[TrsrvSecdef]:
        """Contract rows for up to 200 conids per request (split here)."""
        rows: list[TrsrvSecdef] = []
        for start in range(0, len(conids), MAX_SECDEF_CONIDS):
            chunk = conids[start : start + MAX_SECDEF_CONIDS]
            data = await self._get(
                "/trsrv/secdef", Priority.MARKET_DATA, params={"conids": _ids(chunk)}
            )
            payload = data.get("secdef", []) if isinstance(data, dict) else (data or [])
            rows.extend(_model(TypeAdapter(list[TrsrvSecdef]), payload, "/trsrv/secdef"))
        return rows

    # -- market data ----------------------------------------------------------------------

    async def snapshot(self, conids: Sequence[int], fields: Sequence[str]) -> list[SnapshotRow]:
        """One snapshot request (<= 100 conids, <= 50 fields); first calls are pre-flight."""
        if not conids:
            return []
        if len(conids) > MAX_SNAPSHOT_CONIDS or len(fields) > MAX_SNAPSHOT_FIELDS:
            raise ValueError(
                f"a snapshot takes at most {MAX_SNAPSHOT_CONIDS} conids and "
                f"{MAX_SNAPSHOT_FIELDS} fields"
            )
        data = await self._get(
            "/iserver/marketdata/snapshot",
            Priority.MARKET_DATA,
            params={"conids": _ids(conids), "fields": ",".join(fields)},
        )
        return _model(TypeAdapter(list[SnapshotRow]), data or [], "/iserver/marketdata/snapshot")

    async def history(
        self,
        conid: int,
        *,
        period: str = "1w",
        bar: str = "1d",
        exchange: str | None = None,
        start_time: str | None = None,
        outside_rth: bool = False,
        source: str | None = None,
    ) -> HistoryResponse:
        params = {"conid": str(conid), "period": period, "bar": bar}
        params["outsideRth"] = "true" if outside_rth else "false"
        for key, value in (("exchange", exchange), ("startTime", start_time), ("source", source)):
            if value is not None:
                params[key] = value
        data = await self._get("/iserver/marketdata/history", Priority.MARKET_DATA, params=params)
        return _model(TypeAdapter(HistoryResponse), data or {}, "/iserver/marketdata/history")

    # -- orders ---------------------------------------------------------------------------

    async def place_orders(self, account_id: str, orders: Sequence[OrderRequest]) -> OrderAnswer:
        """POST the order(s) once. Questions come back for the caller to answer."""
        coid = orders[0].cOID if orders else None
        body = {"orders": [o.to_wire() for o in orders]}
        data = await self._call(
            Call(
                "POST",
                f"/iserver/account/{account_id}/orders",
                Priority.ORDER,
                CallKind.ORDER,
                body=body,
                operation="place order",
                coid=coid,
            )
        )
        return self._order_answer(data, "place order", coid=coid)

    async def reply(self, reply_id: str, *, confirmed: bool, coid: str | None) -> OrderAnswer:
        """Answer one question; ``confirmed=False`` discards the order at IBKR."""
        data = await self._call(
            Call(
                "POST",
                f"/iserver/reply/{reply_id}",
                Priority.ORDER,
                CallKind.ORDER,
                body={"confirmed": confirmed},
                operation="reply to order question",
                coid=coid,
            )
        )
        return self._order_answer(data, "reply to order question", coid=coid)

    async def modify_order(
        self, account_id: str, order_id: int, order: OrderRequest
    ) -> OrderAnswer:
        """Send the full order with the changed values (IBKR wants every field again)."""
        data = await self._call(
            Call(
                "POST",
                f"/iserver/account/{account_id}/order/{order_id}",
                Priority.ORDER,
                CallKind.ORDER,
                body=order.to_wire(),
                operation="modify order",
                coid=order.cOID,
                order_id=str(order_id),
            )
        )
        return self._order_answer(data, "modify order", coid=order.cOID)

    async def cancel_order(self, account_id: str, order_id: int) -> CancelResponse:
        """Request a cancel (``-1`` cancels all); acceptance is not the cancel itself."""
        data = await self._call(
            Call(
                "DELETE",
                f"/iserver/account/{account_id}/order/{order_id}",
                Priority.CANCEL,
                CallKind.ORDER,
                operation="cancel order",
                order_id=str(order_id),
            )
        )
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            raise OrderRejected(data["error"])
        try:
            return CancelResponse.model_validate(data or {})
        except ValidationError as exc:
            raise OutcomeUnknown(
                "cancel order", "unexpected answer shape", order_id=str(order_id)
            ) from exc

    async def whatif(self, account_id: str, orders: Sequence[OrderRequest]) -> WhatIf:
        """Margin/commission preview; has no effect, so it may be retried."""
        path = f"/iserver/account/{account_id}/orders/whatif"
        data = await self._call(
            Call(
                "POST",
                path,
                Priority.ORDER,
                CallKind.READ,
                body={"orders": [o.to_wire() for o in orders]},
            )
        )
        if isinstance(data, dict) and isinstance(data.get("error"), str) and len(data) == 1:
            raise OrderRejected(data["error"])
        return _model(TypeAdapter(WhatIf), data or {}, path)

    async def live_orders(
        self,
        *,
        filters: Sequence[str] = (),
        force: bool = False,
        account_id: str | None = None,
    ) -> LiveOrders:
        """Today's orders. An empty first answer (``snapshot: false``) is a pre-flight."""
        params: dict[str, str] = {}
        if filters:
            params["filters"] = ",".join(filters)
        if force:
            params["force"] = "true"
        if account_id:
            params["accountId"] = account_id
        data = await self._get("/iserver/account/orders", Priority.ACCOUNT, params=params or None)
        return _model(TypeAdapter(LiveOrders), data or {}, "/iserver/account/orders")

    async def order_status(self, order_id: int) -> OrderStatus:
        path = f"/iserver/account/order/status/{order_id}"
        data = await self._get(path, Priority.ACCOUNT)
        return _model(TypeAdapter(OrderStatus), data, path)

    async def trades(
        self, *, days: int | None = None, account_id: str | None = None
    ) -> list[Trade]:
        params: dict[str, str] = {}
        if days is not None:
            params["days"] = str(days)
        if account_id:
            params["accountId"] = account_id
        data = await self._get("/iserver/account/trades", Priority.ACCOUNT, params=params or None)
        return _model(TypeAdapter(list[Trade]), data or [], "/iserver/account/trades")

    async def suppress_questions(self, message_ids: Sequence[str]) -> StatusMessage:
        """Suppress these question ids for the brokerage session (send the full list)."""
        data = await self._call(
            Call(
                "POST",
                "/iserver/questions/suppress",
                Priority.ORDER,
                CallKind.READ,
                body={"messageIds": list(message_ids)},
            )
        )
        return _model(TypeAdapter(StatusMessage), data or {}, "/iserver/questions/suppress")

    async def reset_suppressed_questions(self) -> StatusMessage:
        data = await self._call(
            Call("POST", "/iserver/questions/suppress/reset", Priority.ORDER, CallKind.READ)
        )
        return _model(TypeAdapter(StatusMessage), data or {}, "/iserver/questions/suppress/reset")

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _order_answer(data: Any, operation: str, *, coid: str | None) -> OrderAnswer:
        """Accepted / question list, a definitive rejection, or an unknown outcome."""
        if isinstance(data, dict) and "error" in data:
            text = error_text(data, "")
            if "reply id not found" in text.lower():
                raise OutcomeUnknown(operation, "IBKR: reply id not found", coid=coid)
            if not text.strip():
                # `{"error": null}` / `{"error": ""}` says nothing: a garbled answer, not a
                # rejection. Settling it as rejected could leave a live order untracked.
                raise OutcomeUnknown(operation, "error answer without a reason", coid=coid)
            raise OrderRejected(text, coid=coid)
        items: list[Any]
        if isinstance(data, list):
            items = data
        elif isinstance(data, dict):
            items = [data]
        else:
            raise OutcomeUnknown(operation, "empty or unexpected answer", coid=coid)
        try:
            answer: OrderAnswer = [_ORDER_ITEM.validate_python(item) for item in items]
        except ValidationError as exc:
            raise OutcomeUnknown(operation, "unexpected answer shape", coid=coid) from exc
        if not answer:
            raise OutcomeUnknown(operation, "empty answer", coid=coid)
        return answer


def dump(model: BaseModel) -> dict[str, Any]:
    """A wire model back as IBKR's JSON (aliases), for journaling raw answers."""
    return model.model_dump(by_alias=True, mode="json")
