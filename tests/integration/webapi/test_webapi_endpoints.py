"""Every endpoint method of the raw client against the simulator, parsed end to end."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from catalyst_ibkr.adapters.webapi import parse
from catalyst_ibkr.adapters.webapi.stack import WebApiStack
from catalyst_ibkr.adapters.webapi.wire import OrderQuestion, OrderRequest, OrderSubmitted
from sim_fixtures import RunningSim

ACCT = "DU1234567"
AAPL = 265598
StackFactory = Callable[..., WebApiStack]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_reference_and_account_endpoints(sim: RunningSim, make_stack: StackFactory) -> None:
    client = make_stack(sim).client
    assert (await client.sso_validate()).RESULT is True
    await client.iserver_accounts()
    info = await client.contract_info(AAPL)
    assert info.con_id == AAPL and info.symbol == "AAPL"
    rows = await client.secdef_search("AAPL")
    assert any(r.conid == AAPL for r in rows)
    secdef = await client.trsrv_secdef([AAPL])
    assert secdef[0].conid == AAPL and secdef[0].ticker == "AAPL"

    summary = await client.account_summary(ACCT)
    acct = parse.account_summary(ACCT, summary, NOW)
    assert acct.net_liquidation > 0 and acct.account == ACCT
    ledger = await client.ledger(ACCT)
    assert "BASE" in ledger and ledger["BASE"].cashbalance is not None
    positions = await client.positions(ACCT)
    assert isinstance(positions, list)
    pnl = await client.pnl_partitioned()
    assert all(isinstance(line.key, str) for line in parse.pnl_lines(pnl))


async def test_history_and_whatif(sim: RunningSim, make_stack: StackFactory) -> None:
    client = make_stack(sim).client
    await client.iserver_accounts()
    history = await client.history(AAPL, period="5d", bar="1d")
    bars = parse.history_bars(history)
    assert bars and all(b.close is not None and b.close > 0 for b in bars)
    assert [b.time for b in bars] == sorted(b.time for b in bars)

    await client.snapshot([AAPL], parse.QUOTE_FIELDS)
    order = OrderRequest(
        acctId=ACCT, conid=AAPL, cOID=f"w-{uuid.uuid4().hex[:12]}", side="BUY",
        orderType="MKT", quantity=Decimal(5),
    )  # fmt: skip
    whatif = await client.whatif(ACCT, [order])
    assert whatif.amount is not None or whatif.warn is not None or whatif.error is not None


async def test_modify_trades_and_suppress_reset(sim: RunningSim, make_stack: StackFactory) -> None:
    client = make_stack(sim).client
    await client.iserver_accounts()
    await client.suppress_questions(["o163", "o354", "o403", "o10151", "o10153"])
    c = f"m-{uuid.uuid4().hex[:12]}"
    base = OrderRequest(
        acctId=ACCT, conid=AAPL, cOID=c, side="BUY", orderType="LMT", quantity=Decimal(2),
        price=Decimal("1.00"),
    )  # fmt: skip
    answer = await client.place_orders(ACCT, [base])
    while isinstance(answer[0], OrderQuestion):
        answer = await client.reply(answer[0].id, confirmed=True, coid=c)
    assert isinstance(answer[0], OrderSubmitted)
    order_id = answer[0].order_id
    changed = base.model_copy(update={"quantity": Decimal(3)})
    modified = await client.modify_order(ACCT, order_id, changed)
    while isinstance(modified[0], OrderQuestion):
        modified = await client.reply(modified[0].id, confirmed=True, coid=c)
    assert isinstance(modified[0], OrderSubmitted)
    status = await client.order_status(order_id)
    assert status.total_size == Decimal(3)
    report = parse.order_status_report(status, NOW)
    assert report.quantity == Decimal(3)

    trades = await client.trades()
    for trade in trades:
        parse.execution_report(trade)
    assert (await client.reset_suppressed_questions()).status is not None


async def test_logout_then_status_is_not_authenticated(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    stack = make_stack(sim)
    await stack.client.iserver_accounts()
    assert (await stack.client.logout()).status is True
    health = await stack.keeper.check(repair=False)
    assert not health.ok
