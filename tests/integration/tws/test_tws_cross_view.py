"""Both views of one simulated account agree: an order placed over TWS is in GET /sim/state and
in the Web API's live orders, and a Web API order is visible (and cancellable by the Web API)
through the TWS adapter. One engine, two wire protocols, real loopback sockets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import Accepted, CancelOrder, PlaceOrder
from sim_fixtures import RunningSim

pytestmark = pytest.mark.timeout(60)
ACCT = "DU1234567"
AAPL = 265598


def web_api(sim: RunningSim) -> httpx.Client:
    return httpx.Client(base_url=sim.api_url, verify=sim.ssl_context(), timeout=10.0)


def warm(client: httpx.Client) -> None:
    assert client.get("/iserver/accounts").status_code == 200


def web_live_orders(sim: RunningSim) -> list[dict[str, Any]]:
    with web_api(sim) as client:
        warm(client)
        client.get("/iserver/account/orders")  # the first call only primes, as at IBKR
        body = client.get("/iserver/account/orders").json()
    return list(body["orders"])


def web_place(sim: RunningSim, cid: str, price: str) -> int:
    order = {"conid": AAPL, "side": "BUY", "tif": "DAY", "orderType": "LMT", "price": float(price),
             "quantity": 1, "cOID": cid}
    with web_api(sim) as client:
        warm(client)
        body = client.post(f"/iserver/account/{ACCT}/orders", json={"orders": [order]}).json()
        for _ in range(10):
            if isinstance(body, list) and body and "id" in body[0]:
                body = client.post(f"/iserver/reply/{body[0]['id']}",
                                   json={"confirmed": True}).json()
            else:
                break
    assert isinstance(body, list) and "order_id" in body[0], body
    return int(body[0]["order_id"])


def web_cancel(sim: RunningSim, order_id: int) -> None:
    with web_api(sim) as client:
        warm(client)
        response = client.delete(f"/iserver/account/{ACCT}/order/{order_id}")
    assert response.status_code == 200, response.text


async def until(probe: Callable[[], Any], within_s: float = 5.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {within_s}s")
        await asyncio.sleep(0.02)


async def test_a_tws_order_shows_in_sim_state_and_the_web_api(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    await asyncio.to_thread(tws_sim.set_market, "AAPL", bid="100.00", ask="100.02")
    inst = await broker.resolve("AAPL")
    cid = ClientOrderId(f"x-{uuid.uuid4().hex[:12]}")
    request = PlaceOrder(cid, inst, Side.BUY, Decimal(2), OrderType.LMT,
                         limit_price=Decimal("95.00"))
    outcome = await broker.place(request)
    assert isinstance(outcome, Accepted)
    state = await asyncio.to_thread(tws_sim.state)
    [row] = [o for o in state["orders"] if o["cOID"] == cid]
    assert row["status"] == "Submitted" and Decimal(str(row["quantity"])) == 2
    assert str(row["order_id"]) == outcome.broker_order_id  # permId is the engine's order id
    live = await asyncio.to_thread(web_live_orders, tws_sim)
    [web_row] = [o for o in live if o.get("order_ref") == cid]
    assert web_row["status"] == "Submitted" and web_row["orderId"] == row["order_id"]
    await broker.cancel(CancelOrder(cid))
    live = await asyncio.to_thread(web_live_orders, tws_sim)
    assert [o["status"] for o in live if o.get("order_ref") == cid] == ["Cancelled"]


async def test_a_web_api_order_is_seen_through_tws(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    cid = ClientOrderId(f"w-{uuid.uuid4().hex[:12]}")
    order_id = await asyncio.to_thread(web_place, tws_sim, cid, "1.00")
    opened = {o.client_order_id: o for o in await broker.open_orders()}
    assert cid in opened and opened[cid].broker_order_id == str(order_id)
    assert opened[cid].status is OrderStatus.SUBMITTED and opened[cid].conid == AAPL
    # TWS lets only the owner cancel; the adapter says so instead of pretending
    refused = await broker.cancel(CancelOrder(cid))
    assert not isinstance(refused, Accepted)
    await asyncio.to_thread(web_cancel, tws_sim, order_id)

    async def cancelled() -> bool:
        report = await broker.order(cid)
        return report is not None and report.status is OrderStatus.CANCELLED

    await until(cancelled)


async def test_positions_agree_after_a_tws_fill(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    await asyncio.to_thread(tws_sim.set_market, "AAPL", bid="100.00", ask="100.02")
    inst = await broker.resolve("AAPL")
    cid = ClientOrderId(f"p-{uuid.uuid4().hex[:12]}")
    await broker.place(PlaceOrder(cid, inst, Side.BUY, Decimal(4), OrderType.MKT))

    async def position() -> Decimal | None:
        rows = [p for p in await broker.positions() if p.conid == AAPL]
        return rows[0].quantity if rows else None

    assert await until(position) == 4
    state = await asyncio.to_thread(tws_sim.state)
    [row] = [p for p in state["positions"] if p["conid"] == AAPL]
    assert Decimal(str(row["quantity"])) == 4
    summary = await broker.account()
    assert summary.net_liquidation > 0 and summary.currency == "USD"


async def test_cancel_all_over_tws_is_the_kill_switch_for_both_views(
    make_broker: Callable[..., Any], tws_sim: RunningSim
) -> None:
    broker = await make_broker()
    inst = await broker.resolve("AAPL")
    web_cid = ClientOrderId(f"k-{uuid.uuid4().hex[:12]}")
    await asyncio.to_thread(web_place, tws_sim, web_cid, "1.00")
    tws_cid = ClientOrderId(f"k-{uuid.uuid4().hex[:12]}")
    await broker.place(PlaceOrder(tws_cid, inst, Side.BUY, Decimal(1), OrderType.LMT,
                                  limit_price=Decimal("1.00")))
    assert isinstance(await broker.cancel_all(), Accepted)

    async def nothing_working() -> bool:
        return not await broker.open_orders()

    await until(nothing_working)
    state = await asyncio.to_thread(tws_sim.state)
    statuses = {o["cOID"]: o["status"] for o in state["orders"]}
    assert statuses[web_cid] == statuses[tws_cid] == "Cancelled"
