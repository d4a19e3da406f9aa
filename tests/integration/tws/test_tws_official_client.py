"""Cross-check: IB's official Python client (PyPI ``ibapi-stable``) decodes what the fake TWS
sends, so the fake is not tuned to ib_async alone. It negotiates its own version range
(v100..2xx; the fake picks 178) and uses IB's own decoders for every message checked here.
"""

from __future__ import annotations

import queue
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from sim_fixtures import RunningSim

ibapi_client = pytest.importorskip("ibapi.client", reason="ibapi-stable is a dev extra")
from ibapi.contract import Contract  # noqa: E402
from ibapi.order import Order  # noqa: E402
from ibapi.wrapper import EWrapper  # noqa: E402

pytestmark = pytest.mark.timeout(60)
BAD_MESSAGE_CODES = {505, 506, 507, 320}  # IB's "bad message"/"fail read"/"bad length"


class Recorder(EWrapper, ibapi_client.EClient):  # type: ignore[misc]
    def __init__(self) -> None:
        EWrapper.__init__(self)
        ibapi_client.EClient.__init__(self, self)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.errors: list[tuple[int, int, str]] = []
        self.crash: BaseException | None = None
        self.seen: list[tuple[str, Any]] = []
        self.taken: set[int] = set()

    # callbacks -> one queue the test reads in order
    def nextValidId(self, orderId: int) -> None:
        self.events.put(("nextValidId", orderId))

    def managedAccounts(self, accountsList: str) -> None:
        self.events.put(("managedAccounts", accountsList))

    def contractDetails(self, reqId: int, contractDetails: Any) -> None:
        self.events.put(("contractDetails", contractDetails))

    def contractDetailsEnd(self, reqId: int) -> None:
        self.events.put(("contractDetailsEnd", reqId))

    def openOrder(self, orderId: int, contract: Any, order: Any, orderState: Any) -> None:
        self.events.put(("openOrder", (orderId, contract, order, orderState)))

    def orderStatus(self, orderId: int, status: str, filled: Decimal, remaining: Decimal,
                    avgFillPrice: float, permId: int, parentId: int, lastFillPrice: float,
                    clientId: int, whyHeld: str, mktCapPrice: float) -> None:
        self.events.put(("orderStatus", (orderId, status, filled, remaining, avgFillPrice,
                                         permId, clientId)))

    def execDetails(self, reqId: int, contract: Any, execution: Any) -> None:
        self.events.put(("execDetails", execution))

    def commissionAndFeesReport(self, commissionAndFeesReport: Any) -> None:
        self.events.put(("commission", commissionAndFeesReport))

    def error(self, reqId: int, errorTime: int, errorCode: int, errorString: str,
              advancedOrderRejectJson: str = "") -> None:
        self.errors.append((reqId, errorCode, errorString))

    def run_safely(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # a decode error escapes IB's loop: record it
            self.crash = exc

    def wait_for(self, name: str, accept: Any = None, within_s: float = 5.0) -> Any:
        """The first not-yet-taken event of this kind (callbacks arrive in wire order)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.events.get(timeout=0.05))
            except queue.Empty:
                assert self.crash is None, f"IB's client crashed: {self.crash!r}"
            for index, (kind, value) in enumerate(self.seen):
                if index not in self.taken and kind == name and (accept is None
                                                                 or accept(value)):
                    self.taken.add(index)
                    return value
        raise AssertionError(f"no {name} within {within_s}s; errors: {self.errors}")


def aapl() -> Any:
    contract = Contract()
    contract.symbol, contract.secType = "AAPL", "STK"
    contract.exchange, contract.currency = "SMART", "USD"
    return contract


def order(action: str, qty: int, order_type: str, ref: str, price: float | None = None) -> Any:
    o = Order()
    o.action, o.totalQuantity, o.orderType, o.orderRef = action, Decimal(qty), order_type, ref
    if price is not None:
        o.lmtPrice = price
    return o


def test_official_client_decodes_the_fake(tws_sim: RunningSim) -> None:
    tws_sim.set_market("AAPL", bid="100.00", ask="100.02", last="100.01")
    app = Recorder()
    app.connect("127.0.0.1", tws_sim.tws_port, clientId=17)
    reader = threading.Thread(target=app.run_safely, daemon=True)
    reader.start()
    try:
        assert app.serverVersion() == 178
        next_id = app.wait_for("nextValidId")
        assert next_id >= 1
        assert app.wait_for("managedAccounts") == "DU1234567"

        app.reqContractDetails(1, aapl())
        details = app.wait_for("contractDetails")
        assert details.contract.conId == 265598 and details.minTick == 0.01
        assert details.contract.primaryExchange == "NASDAQ" and details.longName
        app.wait_for("contractDetailsEnd")

        app.placeOrder(next_id, aapl(), order("BUY", 1, "LMT", "ibapi-lmt", price=1.0))
        order_id, contract, placed, state = app.wait_for("openOrder")
        assert (order_id, contract.conId, placed.orderRef) == (next_id, 265598, "ibapi-lmt")
        assert placed.lmtPrice == 1.0 and placed.totalQuantity == 1
        assert state.status == "Submitted" and placed.permId > 0
        status = app.wait_for("orderStatus")
        assert status[:2] == (next_id, "Submitted") and status[6] == 17
        app.cancelOrder(next_id, _cancel_arg())
        app.wait_for("orderStatus", lambda s: s[1] == "Cancelled")

        app.placeOrder(next_id + 1, aapl(), order("BUY", 3, "MKT", "ibapi-mkt"))
        filled = app.wait_for("orderStatus", lambda s: s[0] == next_id + 1 and s[1] == "Filled")
        assert filled[2] == 3 and filled[4] == 100.02
        execution = app.wait_for("execDetails")
        assert execution.orderRef == "ibapi-mkt" and execution.side == "BOT"
        report = app.wait_for("commission")
        assert report.execId == execution.execId and report.commissionAndFees > 0
    finally:
        app.disconnect()
        reader.join(5)
    assert app.crash is None, f"IB's client crashed: {app.crash!r}"
    bad = [e for e in app.errors if e[1] in BAD_MESSAGE_CODES]
    assert not bad, f"IB's client could not decode: {bad}"
    assert [e for e in app.errors if e[1] == 202], "the cancel was confirmed with error 202"


def _cancel_arg() -> Any:
    from ibapi.order_cancel import OrderCancel

    return OrderCancel()
