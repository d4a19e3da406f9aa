"""Pure parts of the Web API broker: candidate choice, the question dialogue, the event
fan-out's backpressure and the stream's per-order merging."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest

from catalyst_ibkr.adapters.webapi.contracts import (
    QUERY_BUDGET,
    AmbiguousSymbol,
    choose_candidate,
    symbol_batches,
)
from catalyst_ibkr.adapters.webapi.errors import OrderRejected
from catalyst_ibkr.adapters.webapi.orders import QuestionPolicy, QuestionRecord, run_dialogue
from catalyst_ibkr.adapters.webapi.parse import StockCandidate
from catalyst_ibkr.adapters.webapi.stream import EventFanout, OrderStream
from catalyst_ibkr.adapters.webapi.wire import OrderQuestion, OrderSubmitted
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import AccountId, BrokerOrderId, ClientOrderId, ConId
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import (
    Accepted,
    HealthEvent,
    InstrumentNotFound,
    OrderEvent,
    OrderReport,
    Rejected,
    SessionHealth,
)

COID = ClientOrderId("u-1")


def cand(conid: int, exchange: str, us: bool | None = True) -> StockCandidate:
    return StockCandidate("XYZ", conid, "XYZ CORP", exchange, us)


def test_one_us_listing_is_chosen_over_foreign_ones() -> None:
    pick = choose_candidate("XYZ", [cand(1, "NASDAQ"), cand(2, "MEXI", False)],
                            exchange=None, currency="USD")
    assert pick.conid == 1


def test_two_us_listings_are_ambiguous_and_listed() -> None:
    with pytest.raises(AmbiguousSymbol) as caught:
        choose_candidate("XYZ", [cand(1, "NASDAQ"), cand(2, "NYSE")], exchange=None,
                         currency="USD")
    assert "conid 1" in str(caught.value) and "conid 2" in str(caught.value)
    pick = choose_candidate("XYZ", [cand(1, "NASDAQ"), cand(2, "NYSE")], exchange="nyse",
                            currency="USD")
    assert pick.conid == 2


def test_symbol_batches_fill_the_request_line_budget_and_lose_nothing() -> None:
    symbols = [f"S{i:04d}" for i in range(2000)] + ["BRK B", "BF.B"]
    batches = symbol_batches(symbols)
    assert [s for batch in batches for s in batch] == symbols  # order kept, none lost
    for batch in batches:
        encoded = len(quote(",".join(batch), safe=""))
        assert encoded <= QUERY_BUDGET
    # 5 characters + "%2C" = 8 bytes each: ~437 per request, so 2,002 symbols need 5
    assert len(batches) == 5
    assert symbol_batches([]) == []


def test_no_listing_is_not_found() -> None:
    with pytest.raises(InstrumentNotFound):
        choose_candidate("XYZ", [cand(2, "MEXI", False)], exchange=None, currency="USD")


def question(mid: str, rid: str = "r1") -> OrderQuestion:
    return OrderQuestion(id=rid, message=[f"text of {mid}"], messageIds=[mid])


def accepted(order_id: int = 9) -> OrderSubmitted:
    return OrderSubmitted(order_id=order_id, order_status="Submitted")


async def dialogue(first: list[Any], replies: list[Any], confirm: set[str]
                   ) -> tuple[Accepted | Rejected, list[tuple[str, bool]], list[QuestionRecord]]:
    sent: list[tuple[str, bool]] = []
    asked: list[QuestionRecord] = []

    async def post() -> Any:
        return first

    async def reply(rid: str, ok: bool) -> Any:
        sent.append((rid, ok))
        answer = replies.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    outcome = await run_dialogue(post, reply, coid=COID,
                                 policy=QuestionPolicy(frozenset(confirm), asked.append))
    return outcome, sent, asked


async def test_allowed_question_is_confirmed_by_id_then_accepted() -> None:
    outcome, sent, asked = await dialogue([question("o163")], [[accepted()]], {"o163"})
    assert isinstance(outcome, Accepted) and outcome.broker_order_id == "9"
    assert sent == [("r1", True)] and asked[0].confirmed


async def test_unknown_question_is_declined_and_rejected_with_ibkrs_text() -> None:
    refusal = OrderRejected("Order was not confirmed; it has not been submitted.")
    outcome, sent, asked = await dialogue([question("o451")], [refusal], {"o163"})
    assert isinstance(outcome, Rejected) and outcome.code == "o451"
    assert "text of o451" in outcome.reason
    assert sent == [("r1", False)] and not asked[0].confirmed


async def test_a_mixed_question_needs_every_id_allowed() -> None:
    mixed = OrderQuestion(id="r1", message=["two"], messageIds=["o163", "o383"])
    refusal = OrderRejected("not confirmed")
    outcome, sent, _ = await dialogue([mixed], [refusal], {"o163"})
    assert isinstance(outcome, Rejected) and sent == [("r1", False)]


async def test_an_order_accepted_despite_a_decline_is_reported_as_accepted() -> None:
    outcome, _, _ = await dialogue([question("o451")], [[accepted(5)]], set())
    assert isinstance(outcome, Accepted) and outcome.broker_order_id == "5"


async def test_endless_questions_give_up_without_confirming_blindly() -> None:
    chain = [[question("o163", f"r{i}")] for i in range(30)]
    outcome, sent, _ = await dialogue([question("o163", "r0")], chain, {"o163"})
    assert isinstance(outcome, Rejected) and len(sent) == 20


async def test_fanout_waits_for_room_instead_of_dropping() -> None:
    fanout = EventFanout(size=2)
    sub = fanout.subscribe()
    health = HealthEvent(SessionHealth(True, True, datetime.now(UTC)))
    await fanout.publish(health)
    await fanout.publish(health)
    third = asyncio.create_task(fanout.publish(health))
    await asyncio.sleep(0.05)
    assert not third.done()  # blocked: backpressure
    assert await anext(sub) is health
    await asyncio.wait_for(third, 1)  # room made: delivered, nothing dropped
    assert [await anext(sub), await anext(sub)] == [health, health]
    await sub.aclose()


def report(filled: str, status: OrderStatus) -> OrderReport:
    return OrderReport(COID, BrokerOrderId(7), AccountId("DU1"), ConId(1), "AAPL", Side.BUY,
                       OrderType.LMT,
                       Decimal(3), Decimal(filled), status, datetime.now(UTC),
                       limit_price=Decimal(1))


async def test_stream_never_publishes_a_fill_going_backwards_or_a_repeat() -> None:
    class Clock:
        def time(self) -> float:
            return 0.0

        async def sleep(self, s: float) -> None:
            await asyncio.sleep(0)

    async def none() -> str | None:
        return None

    async def no_orders() -> list[OrderReport]:
        return []

    stream = OrderStream(gateway_url="http://127.0.0.1:1", tls_plan=None, session_id=none,
                         refresh_orders=no_orders, clock=Clock())
    sub = stream.fanout.subscribe()
    steps = (("1", OrderStatus.PARTIALLY_FILLED), ("1", OrderStatus.PARTIALLY_FILLED),
             ("0", OrderStatus.SUBMITTED), ("3", OrderStatus.FILLED))
    for filled, status in steps:
        await stream.publish_report(report(filled, status))
    seen = []
    while True:
        try:
            event = await asyncio.wait_for(anext(sub), 0.05)
        except TimeoutError:
            break
        assert isinstance(event, OrderEvent)
        seen.append(event.report.filled_quantity)
    assert seen == [Decimal(1), Decimal(3)]
