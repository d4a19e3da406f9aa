"""The raw client against the real simulator over loopback: reads, orders, faults."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from catalyst_ibkr.adapters.webapi import parse
from catalyst_ibkr.adapters.webapi.endpoints import WebApiClient
from catalyst_ibkr.adapters.webapi.errors import NotAuthenticated, OrderRejected, OutcomeUnknown
from catalyst_ibkr.adapters.webapi.session import HealthState
from catalyst_ibkr.adapters.webapi.stack import WebApiStack
from catalyst_ibkr.adapters.webapi.wire import OrderQuestion, OrderRequest, OrderSubmitted
from sim_fixtures import RunningSim

ACCT = "DU1234567"
AAPL = 265598
ALL_QUESTIONS = ["o163", "o354", "o382", "o383", "o403", "o451", "o10151", "o10152",
                 "o10153", "o10331"]  # fmt: skip
StackFactory = Callable[..., WebApiStack]


def coid() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


def order(c: str, **kw: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "acctId": ACCT, "conid": AAPL, "cOID": c, "side": "BUY", "orderType": "MKT",
        "quantity": Decimal(1),
    }  # fmt: skip
    fields.update(kw)
    return OrderRequest(**fields)


async def place_answering(
    client: WebApiClient, req: OrderRequest, *, confirm: bool = True
) -> tuple[list[str], list[OrderSubmitted]]:
    asked: list[str] = []
    answer = await client.place_orders(ACCT, [req])
    for _ in range(10):
        first = answer[0]
        if not isinstance(first, OrderQuestion):
            return asked, [a for a in answer if isinstance(a, OrderSubmitted)]
        asked.extend(first.messageIds)
        answer = await client.reply(first.id, confirmed=confirm, coid=req.cOID)
    raise AssertionError("question chain did not end")


def orders_with(sim: RunningSim, c: str) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if o["cOID"] == c]


async def test_reads_quotes_and_an_order_round_trip(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    client = make_stack(sim, time_scale=50.0).client
    accounts = await client.iserver_accounts()
    assert ACCT in accounts.accounts
    assert [a.accountId for a in await client.portfolio_accounts()] == [ACCT]
    cands = parse.stock_candidates(await client.trsrv_stocks(["AAPL", "MSFT"]))
    assert cands["AAPL"][0].conid == AAPL
    first = [parse.snapshot_quote(r) for r in await client.snapshot([AAPL], parse.QUOTE_FIELDS)]
    quotes: list[parse.SnapshotQuote] = first
    for _ in range(20):
        if not quotes[0].missing(parse.QUOTE_FIELDS):
            break
        rows = await client.snapshot([AAPL], parse.QUOTE_FIELDS)
        quotes = [parse.snapshot_quote(r) for r in rows]
    assert quotes[0].missing(parse.QUOTE_FIELDS) == []
    assert quotes[0].bid.value is not None and quotes[0].bid.value > 0

    c = coid()
    far = (quotes[0].bid.value * Decimal("0.5")).quantize(Decimal("0.01"))
    asked, accepted = await place_answering(client, order(c, orderType="LMT", price=far))
    assert accepted and "o163" in asked
    order_id = accepted[0].order_id
    assert orders_with(sim, c)[0]["order_id"] in (order_id, str(order_id))

    live = await client.live_orders()
    for _ in range(5):
        if live.snapshot and live.orders:
            break
        live = await client.live_orders()
    mine = [o for o in live.orders if o.order_ref == c]
    assert len(mine) == 1 and mine[0].orderId == order_id
    report = parse.live_order_report(mine[0], parse.from_epoch_ms(0))
    assert report.client_order_id == c and report.limit_price == far
    status = await client.order_status(order_id)
    assert status.order_id == order_id
    cancelled = await client.cancel_order(ACCT, order_id)
    assert cancelled.order_id in (order_id, None)


async def test_declined_question_places_nothing(sim: RunningSim, make_stack: StackFactory) -> None:
    client = make_stack(sim).client
    await client.iserver_accounts()
    c = coid()
    with pytest.raises(OrderRejected, match="not confirmed"):
        await place_answering(client, order(c, orderType="LMT", price=Decimal("1.00")),
                              confirm=False)  # fmt: skip
    assert orders_with(sim, c) == []


async def test_dropped_connection_after_accept_is_unknown_and_one_order_exists(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    client = make_stack(sim).client
    await client.iserver_accounts()
    await client.suppress_questions(ALL_QUESTIONS)
    c = coid()
    sim.fault("drop_after_accept", path=rf"/iserver/account/{ACCT}/orders$")
    before = sim.state()["stats"]["requests_total"]
    with pytest.raises(OutcomeUnknown) as info:
        await client.place_orders(ACCT, [order(c)])
    assert info.value.coid == c and info.value.exit_code == 3
    state = sim.state()
    assert state["stats"]["requests_total"] - before == 1  # the POST went out once
    assert len(orders_with(sim, c)) == 1


async def test_500_after_order_post_is_unknown_and_not_resent(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    client = make_stack(sim).client
    await client.iserver_accounts()
    c = coid()
    sim.fault("http_error", path=rf"/iserver/account/{ACCT}/orders$", status=500)
    before = sim.state()["stats"]["requests_total"]
    with pytest.raises(OutcomeUnknown):
        await client.place_orders(ACCT, [order(c)])
    assert sim.state()["stats"]["requests_total"] - before == 1


async def test_unknown_reply_id_is_an_unknown_outcome(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    client = make_stack(sim).client
    await client.iserver_accounts()
    with pytest.raises(OutcomeUnknown, match="reply id not found"):
        await client.reply(str(uuid.uuid4()), confirmed=True, coid="t-x")


async def test_expired_session_recovers_for_reads_and_refuses_orders(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    stack = make_stack(sim)
    client = stack.client
    assert (await stack.keeper.check()).ok
    await client.iserver_accounts()
    sim.fault("expire_session")
    live = await client.live_orders()  # 401 -> ssodh/init -> retried once
    assert live is not None and stack.keeper.health.ok

    sim.fault("expire_session")
    c = coid()
    with pytest.raises(NotAuthenticated) as info:
        await client.place_orders(ACCT, [order(c)])
    assert info.value.exit_code == 4
    assert orders_with(sim, c) == []
    health = await stack.keeper.check()
    assert health.state in (HealthState.NOT_AUTHENTICATED, HealthState.HEALTHY)


async def test_competing_session_is_reported_not_taken_over(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    stack = make_stack(sim)
    sim.fault("competing_session")
    health = await stack.keeper.check()
    assert health.state is HealthState.COMPETING and health.competing
    assert "another platform" in health.detail or health.detail


@pytest.mark.sim_options(relogin_s=0.5)
async def test_gateway_restart_waits_for_ibeam_then_reads_again(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    stack = make_stack(sim)
    await stack.client.iserver_accounts()
    sim.fault("restart")
    health = await stack.keeper.check()
    assert health.state is HealthState.AUTH_PENDING and "IBeam" in health.detail
    live = await stack.client.live_orders()  # 401 -> wait for the relogin -> retried
    assert live is not None and stack.keeper.health.ok


async def test_daily_reset_is_repaired_by_ssodh_init(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    stack = make_stack(sim)
    await stack.client.iserver_accounts()
    sim.fault("daily_reset")
    rows = await stack.client.positions(ACCT)  # /portfolio needs only the portal session
    assert isinstance(rows, list)
    assert (await stack.client.live_orders()) is not None
    assert stack.keeper.health.ok
