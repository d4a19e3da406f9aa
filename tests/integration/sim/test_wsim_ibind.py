"""ibind (PyPI), a client written against the real gateway, run unmodified against the sim.

Whatever ibind needs that the simulator lacks is a fidelity bug in the simulator.  TLS is
verified against the sim's own certificate through ibind's ``cacert`` option (REST and
websocket alike); nothing here turns verification off.  The websocket test keeps the time
scale at 1 because ibind compares the ``hb`` timestamp with its own wall clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from simsrv_helpers import AAPL, ACCT

from sim_fixtures import RunningSim

ibind = pytest.importorskip("ibind", reason="ibind is a dev extra: pip install -e '.[dev]'")

from ibind import (  # noqa: E402
    IbkrClient,
    IbkrWsClient,
    OrderRequest,
    QuestionType,
    QueueSink,
    events,
    subscriptions,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def client(sim: RunningSim) -> Iterator[IbkrClient]:
    assert sim.ca_file is not None
    c = IbkrClient(
        url=sim.api_url + "/", account_id=ACCT, cacert=str(sim.ca_file), timeout=10,
        auto_register_shutdown=False, use_session=True,
    )
    yield c
    c.close()


def _snapshot(client: IbkrClient, fields: list[str]) -> dict[str, Any]:
    for _ in range(5):
        rows = client.live_marketdata_snapshot(str(AAPL), fields).data
        if rows and "31" in rows[0]:
            row: dict[str, Any] = rows[0]
            return row
    raise AssertionError(f"snapshot never filled in: {rows}")


def test_ibind_auth_accounts_search_snapshot(client: IbkrClient) -> None:
    assert client.check_health() is True
    assert client.authentication_status().data["authenticated"] is True
    assert client.tickle().data["iserver"]["authStatus"]["authenticated"] is True
    assert ACCT in client.receive_brokerage_accounts().data["accounts"]
    assert client.portfolio_accounts().data[0]["accountId"] == ACCT
    found = client.search_contract_by_symbol("AAPL").data
    assert found[0]["conid"] == str(AAPL)
    assert client.stock_conid_by_symbol("AAPL").data == {"AAPL": AAPL}
    row = _snapshot(client, ["31", "84", "86"])
    assert float(row["84"]) < float(row["86"])


def test_ibind_order_questions_live_orders_cancel_and_positions(
    sim: RunningSim, client: IbkrClient
) -> None:
    sim.set_market("AAPL", last="100.00")
    client.receive_brokerage_accounts()
    far = OrderRequest(conid=AAPL, side="BUY", quantity=1, order_type="LMT", price=90.0,
                       acct_id=ACCT, coid=f"ibind-{uuid.uuid4().hex[:8]}", tif="DAY")
    answers = {QuestionType.PRICE_PERCENTAGE_CONSTRAINT: True,
               QuestionType.MANDATORY_CAP_PRICE: True,
               QuestionType.MARKET_ORDER_CONFIRMATION: True}
    placed = client.place_order(far, answers).data
    order_id = placed["order_id"]
    assert placed["order_status"] in ("Submitted", "PreSubmitted")
    client.live_orders(force=True)
    rows = client.live_orders().data["orders"]
    assert [r["status"] for r in rows if str(r["orderId"]) == order_id] == ["Submitted"]
    client.cancel_order(order_id)
    assert client.order_status(order_id).data["order_status"] == "Cancelled"

    market = OrderRequest(conid=AAPL, side="BUY", quantity=3, order_type="MKT", acct_id=ACCT,
                          coid=f"ibind-{uuid.uuid4().hex[:8]}", tif="DAY")
    filled = client.place_order(market, answers).data
    assert client.order_status(filled["order_id"]).data["order_status"] == "Filled"
    positions = client.positions().data
    assert [(p["conid"], p["position"]) for p in positions] == [(AAPL, 3.0)]


def _first(sink: QueueSink, kind: type[Any], match: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = sink.get(kind, block=True, timeout=0.2)
        if event is not None and match(event):
            return event
    raise AssertionError(f"no matching {kind.__name__} event within {timeout}s")


def test_ibind_websocket_client_streams_market_data_orders_trades_and_pnl(
    sim: RunningSim, client: IbkrClient
) -> None:
    client.receive_brokerage_accounts()
    sink = QueueSink()
    ws = IbkrWsClient(
        ibkr_client=client, account_id=ACCT, url=sim.api_url.replace("https", "wss") + "/ws",
        cacert=str(sim.ca_file), sink=sink,
    )
    assert ws.start()
    try:
        deadline = time.monotonic() + 10
        while not ws.is_authenticated() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ws.is_authenticated()
        handles = [
            ws.subscribe(subscriptions.MarketDataSubscription(conid=str(AAPL),
                                                              fields=["31", "84", "86"])),
            ws.subscribe(subscriptions.OrdersSubscription()),
            ws.subscribe(subscriptions.TradesSubscription()),
            ws.subscribe(subscriptions.PnlSubscription()),
        ]
        assert ws.wait_all(handles, timeout_each=10) == []
        md = _first(sink, events.MarketData, lambda e: e.conid == str(AAPL))
        assert {"last_price", "bid_price", "ask_price"} <= set(md.data)

        answers = {QuestionType.MARKET_ORDER_CONFIRMATION: True}
        order = OrderRequest(conid=AAPL, side="BUY", quantity=2, order_type="MKT",
                             acct_id=ACCT, coid=f"ibind-ws-{uuid.uuid4().hex[:8]}", tif="DAY")
        order_id = int(client.place_order(order, answers).data["order_id"])
        _first(sink, events.Orders, lambda e: any(
            a.get("orderId") == order_id and a.get("status") == "Filled"
            for a in e.data.get("args", [])))
        trade = _first(sink, events.Trades, lambda e: any(
            a.get("order_id") == order_id and "commission" in a for a in e.data.get("args", [])))
        assert trade.data["args"][0]["size"] == 2.0
        _first(sink, events.Pnl, lambda e: e.data["args"][f"{ACCT}.Core"]["mv"] != 0)
        tic = ws.tic()
        assert tic is not None and tic["alive"] is True
    finally:
        ws.shutdown()


def test_ibind_history_whatif_modify_pnl_trades_and_unsubscribe(
    sim: RunningSim, client: IbkrClient
) -> None:
    sim.set_market("AAPL", last="100.00", bid="99.99", ask="100.01")
    client.receive_brokerage_accounts()
    bars = client.marketdata_history_by_conid(str(AAPL), bar="1h", period="1d",
                                              outside_rth=True).data
    assert len(bars["data"]) == 24 and bars["symbol"] == "AAPL"

    _snapshot(client, ["31"])
    order = OrderRequest(conid=AAPL, side="BUY", quantity=10, order_type="LMT", price=99.5,
                         acct_id=ACCT, coid=f"ibind-{uuid.uuid4().hex[:8]}", tif="DAY")
    preview = client.whatif_order(order).data
    assert preview["position"] == {"current": "0", "change": "10", "after": "10"}
    assert sim.state()["orders"] == []

    answers = {QuestionType.PRICE_PERCENTAGE_CONSTRAINT: True,
               QuestionType.MANDATORY_CAP_PRICE: True,
               QuestionType.MARKET_ORDER_CONFIRMATION: True}
    order_id = client.place_order(order, answers).data["order_id"]
    moved = OrderRequest(conid=AAPL, side="BUY", quantity=10, order_type="LMT", price=90.0,
                         acct_id=ACCT, tif="DAY")
    assert client.modify_order(order_id, moved, answers).data["order_id"] == order_id
    assert client.order_status(order_id).data["limit_price"] == "90.00"

    market = OrderRequest(conid=AAPL, side="BUY", quantity=4, order_type="MKT", acct_id=ACCT,
                          coid=f"ibind-{uuid.uuid4().hex[:8]}", tif="DAY")
    filled_id = int(client.place_order(market, answers).data["order_id"])
    pnl = client.account_profit_and_loss().data["upnl"][f"{ACCT}.Core"]
    assert pnl["mv"] == 400.0
    assert [t["order_id"] for t in client.trades().data] == [filled_id]
    client.marketdata_unsubscribe([str(AAPL)])
    assert client.marketdata_unsubscribe_all().data == {"unsubscribed": True}
