"""The TWS adapter's own book: ib_async trades and fills folded into port reports.

Why our own book and not ib_async's: ib_async forgets every trade and fill when the socket
drops, and reads an error on a live order as "cancelled". The book outlives reconnects, so
it can promise what the port demands: a fill is published once per execId however often TWS
replays it, ``filled_quantity`` never goes backwards, a finished order is never reopened by a
stale snapshot, and a refused modify does not pass for a cancel.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from catalyst_ibkr.adapters.memory.stream import EventHub
from catalyst_ibkr.adapters.tws import convert
from catalyst_ibkr.core.ids import AccountId, BrokerOrderId, ClientOrderId, ExecutionId
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import FillEvent, OrderEvent, OrderReport

__all__ = ["ACK_STATUSES", "DEAD_STATUSES", "WARNING_CODES", "TwsBook"]

_log = logging.getLogger(__name__)

#: TWS has taken the order: it is live (or done) at IB.
ACK_STATUSES = frozenset({"PreSubmitted", "Submitted", "Filled"})
DEAD_STATUSES = frozenset({"Cancelled", "ApiCancelled", "Inactive"})
#: ib_async treats these as warnings (the order lives on); everything else on an order is fatal.
WARNING_CODES = frozenset({105, 110, 165, 321, 329, 399, 404, 434, 492, 10167})


class TwsBook:
    def __init__(self, client_id: int, account: Callable[[], AccountId], hub: EventHub) -> None:
        self.client_id = client_id
        self._account = account
        self._hub = hub
        self.reports: dict[ClientOrderId, OrderReport] = {}
        self.own: set[ClientOrderId] = set()  # placed by this client id: TWS pushes updates
        self.acked: set[int] = set()
        self.open_seen: dict[int, int] = defaultdict(int)
        self.modifying: set[int] = set()
        self.errors: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self._emitted_fills: set[ExecutionId] = set()

    # -- ib_async event handlers ---------------------------------------------------------------
    def on_open_order(self, trade: Any) -> None:
        self.open_seen[int(trade.order.orderId)] += 1
        self.on_trade(trade)

    def on_trade(self, trade: Any) -> None:
        if str(trade.orderStatus.status) in ACK_STATUSES:
            self.acked.add(int(trade.order.orderId))
        self.note(trade)

    def on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        self.publish_fill(fill)

    def on_error(self, req_id: int, code: int, message: str) -> None:
        if req_id > 0:
            self.errors[req_id].append((code, message))

    # -- folding -------------------------------------------------------------------------------
    def publish_fill(self, fill: Any) -> None:
        try:
            execution = convert.execution_report(fill, self._account())
        except (ValueError, TypeError):
            _log.warning("unreadable TWS execution skipped: %r", fill)
            return
        if execution.execution_id in self._emitted_fills:
            return  # a replay after a reconnect: already counted
        self._emitted_fills.add(execution.execution_id)
        self._hub.publish(FillEvent(execution))

    def note(self, trade: Any) -> OrderReport | None:
        """Fold a trade in; publish an OrderEvent when something changed. Returns the book's
        report (None for a trade that is not readable or is a refused modify's echo)."""
        report = convert.order_report(trade, self._account(), datetime.now(UTC))
        if report is None or report.client_order_id is None:
            return report
        cid = report.client_order_id
        order_id = int(trade.order.orderId)
        if order_id > 0 and int(trade.order.clientId) == self.client_id:
            self.own.add(cid)
        if report.status is OrderStatus.CANCELLED:
            if order_id in self.modifying and self.fatal_error(order_id):
                return None  # a refused modify: ib_async marks it cancelled, TWS does not
            if (order_id > 0 and order_id not in self.acked and self.fatal_error(order_id)
                    and report.filled_quantity == 0):
                report = replace(report, status=OrderStatus.REJECTED)
        if str(trade.orderStatus.status) == "Inactive":
            report = replace(report, status=OrderStatus.REJECTED)
        previous = self.reports.get(cid)
        if previous is not None:
            if previous.filled_quantity > report.filled_quantity:
                report = replace(report, filled_quantity=previous.filled_quantity)
            if previous.status.is_closed and not report.status.is_closed:
                return previous  # a stale snapshot never reopens a finished order
            if _same(previous, report):
                return previous
        self.reports[cid] = report
        self._hub.publish(OrderEvent(report))
        return report

    def fatal_error(self, order_id: int) -> tuple[int, str] | None:
        for code, message in reversed(self.errors.get(order_id, [])):
            if code not in WARNING_CODES and not 2100 <= code < 2200:
                return code, message
        return None

    def by_broker_id(self, broker_order_id: BrokerOrderId) -> OrderReport | None:
        return next((r for r in self.reports.values()
                     if r.broker_order_id == broker_order_id), None)


def _same(a: OrderReport, b: OrderReport) -> bool:
    keys = ("status", "filled_quantity", "quantity", "limit_price", "stop_price",
            "avg_fill_price", "broker_order_id")
    return all(getattr(a, k) == getattr(b, k) for k in keys)
