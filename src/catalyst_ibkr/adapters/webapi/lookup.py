"""Finding orders again on the Web API, without ever mistaking "blank" for "absent".

Why this needs care (reliability.md (a) 30, (b) 10a): ``/iserver/account/orders`` answers
its first call of a brokerage session, and every call after ``force=true``, with a blank
pre-flight list (``"snapshot": false``); it is also paced at 1 request per 5 seconds. An
adapter that reads that blank list as "no such order" would declare a live order rejected
and let the caller send it again. So:

- a list is used only when IBKR marks it a real snapshot; after a few blank answers the
  lookup raises ``BrokerUnavailable`` ("cannot tell now"), never returns None;
- the first list of each brokerage session is preceded by a ``force=true`` call, so IBKR's
  cached state (e.g. from a filtered call elsewhere) is cleared first;
- an order whose IBKR id we know is read with ``/order/status/{id}`` (not paced per
  endpoint), which has no cOID, so the id came from our own placement or a list row;
- an order absent from a real snapshot is also looked for in today's trades before the
  answer "definitively absent" (None) is given.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from pydantic import ValidationError

from catalyst_ibkr.core.ids import BrokerOrderId, ClientOrderId
from catalyst_ibkr.ports.broker import BrokerUnavailable, ExecutionReport, OrderReport

from .endpoints import WebApiClient
from .errors import OrderNotFound
from .parse import execution_report, live_order_report, order_status_report
from .wire import LiveOrder, decimal_or_none

__all__ = ["OrderLookup"]

log = logging.getLogger(__name__)


class OrderLookup:
    """Order and execution reads for one account, with the cOID -> IBKR id memory."""

    def __init__(self, client: WebApiClient, *, preflight_attempts: int = 4) -> None:
        self._client = client
        self._attempts = preflight_attempts
        self._primed = False
        self.order_ids: dict[ClientOrderId, BrokerOrderId] = {}

    def new_session(self) -> None:
        """A new brokerage session: the next list starts with ``force=true``."""
        self._primed = False

    async def live_orders(self, now: datetime) -> list[OrderReport]:
        """Today's orders (any state) from a list IBKR marks as a real snapshot."""
        if not self._primed:
            await self._client.live_orders(force=True)
        for _ in range(self._attempts):
            answer = await self._client.live_orders()
            if answer.snapshot is True or (answer.snapshot is None and answer.orders):
                self._primed = True
                return self._reports(answer.orders, now)
        raise BrokerUnavailable(
            f"IBKR answered the orders list {self._attempts} times with its blank pre-flight; "
            "cannot tell which orders exist right now. Retry in a few seconds"
        )

    def _reports(self, rows: list[LiveOrder], now: datetime) -> list[OrderReport]:
        out: list[OrderReport] = []
        for row in rows:
            try:
                report = live_order_report(row, now)
            except (ValueError, ValidationError) as exc:
                log.warning("order row skipped (unreadable): %s", exc)
                continue
            if report.client_order_id is not None:
                self.order_ids[report.client_order_id] = report.broker_order_id
            out.append(report)
        return out

    async def by_id(self, order_id: BrokerOrderId, now: datetime) -> OrderReport | None:
        """``/order/status/{id}``; None when IBKR says the id is not found."""
        try:
            status = await self._client.order_status(int(order_id))
        except OrderNotFound:
            return None
        report = order_status_report(status, now)
        extra = status.model_extra or {}
        try:
            stop = decimal_or_none(extra.get("stop_price"))
        except ValueError:
            stop = None
        if stop is not None:
            report = replace(report, stop_price=stop)
        return report

    async def by_coid(self, coid: ClientOrderId, now: datetime) -> OrderReport | None:
        """The order with this cOID; None only when IBKR definitively has none today."""
        known = self.order_ids.get(coid)
        if known is not None:
            report = await self.by_id(known, now)
            if report is not None:
                return replace(report, client_order_id=coid)
        matches = [r for r in await self.live_orders(now) if r.client_order_id == coid]
        if matches:
            return max(matches, key=lambda r: r.updated_at)
        for execution in await self.executions(days=1):
            if execution.client_order_id == coid:
                self.order_ids[coid] = execution.broker_order_id
                report = await self.by_id(execution.broker_order_id, now)
                if report is not None:
                    return replace(report, client_order_id=coid)
                raise BrokerUnavailable(
                    f"cOID {coid} has executions but IBKR does not report its order "
                    f"{execution.broker_order_id} now; retry shortly"
                )
        return None

    async def executions(self, *, days: int) -> list[ExecutionReport]:
        rows = await self._client.trades(days=max(1, min(7, days)))
        out: dict[str, ExecutionReport] = {}
        for row in rows:
            try:
                report = execution_report(row)
            except (ValueError, ValidationError) as exc:
                log.warning("execution row skipped (unreadable): %s", exc)
                continue
            out[str(report.execution_id)] = report
        return list(out.values())
