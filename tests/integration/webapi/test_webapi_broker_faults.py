"""WebApiBroker against every fault the simulator injects, over real loopback sockets.

Each test states the promise it checks: never a second POST for one order, an unknown
outcome reconciled by cOID, a declined question a definitive rejection in IBKR's words,
no 429 from our own traffic, and a session or socket that comes back on its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalyst_ibkr.adapters.webapi.broker import WebApiBroker
from catalyst_ibkr.adapters.webapi.orders import QuestionRecord
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.ports.broker import (
    Accepted,
    BrokerUnavailable,
    FillEvent,
    OrderEvent,
    OutcomeUnknown,
    PlaceOrder,
    Rejected,
)
from sim_fixtures import RunningSim
from webapi_broker_fixtures import ACCOUNT, build_broker

ORDERS_PATH = rf"/iserver/account/{ACCOUNT}/orders$"
Factory = Callable[..., RunningSim]


def coid() -> ClientOrderId:
    return ClientOrderId(f"f-{uuid.uuid4().hex[:20]}")


def mine(sim: RunningSim, c: str) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if o["cOID"] == c]


def stats(sim: RunningSim) -> dict[str, Any]:
    result: dict[str, Any] = sim.state()["stats"]
    return result


@pytest.fixture
async def open_broker(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    opened: list[WebApiBroker] = []

    async def make(sim: RunningSim, *, stream: bool = False, **kw: Any) -> WebApiBroker:
        broker = build_broker(sim, tmp_path, **kw)
        opened.append(broker)
        return await broker.start(stream=stream)

    yield make
    for broker in opened:
        await broker.close()


async def ready(broker: WebApiBroker, sim: RunningSim) -> Instrument:
    await asyncio.to_thread(sim.set_market, "AAPL", bid="100.00", ask="100.02", last="100.01")
    return await broker.resolve("AAPL")


async def first_order(broker: WebApiBroker, inst: Instrument) -> None:
    """The session's first order also sends the question suppression (once per session):
    place one first, so a test counting requests around a POST counts that POST alone."""
    assert isinstance(await broker.place(limit(inst, "99.00")), Accepted)


def limit(inst: Instrument, price: str, qty: int = 1, c: ClientOrderId | None = None
          ) -> PlaceOrder:
    return PlaceOrder(c or coid(), inst, Side.BUY, Decimal(qty), OrderType.LMT,
                      limit_price=Decimal(price))


async def until(probe: Callable[[], Any], timeout_s: float = 8.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


# -- unknown outcomes: one POST, found again by cOID ----------------------------------------


async def test_dropped_answer_to_an_order_post_is_unknown_sent_once_and_found_by_coid(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim)
    inst = await ready(broker, sim)
    await first_order(broker, inst)
    request = limit(inst, "98.00")
    sim.fault("drop_after_accept", path=ORDERS_PATH)
    before = stats(sim)["requests_total"]
    with pytest.raises(OutcomeUnknown) as caught:
        await broker.place(request)
    assert caught.value.client_order_id == request.client_order_id
    assert stats(sim)["requests_total"] - before == 1  # no second POST
    report = await broker.order(request.client_order_id)
    assert report is not None and report.status.is_working
    assert len(mine(sim, request.client_order_id)) == 1


async def test_500_after_an_order_post_is_unknown_and_reconciles_to_absent(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim)
    inst = await ready(broker, sim)
    await first_order(broker, inst)
    request = limit(inst, "98.00")
    sim.fault("http_error", path=ORDERS_PATH, status=500)
    before = stats(sim)["requests_total"]
    with pytest.raises(OutcomeUnknown):
        await broker.place(request)
    assert stats(sim)["requests_total"] - before == 1
    assert await broker.order(request.client_order_id) is None  # a real snapshot said so
    assert mine(sim, request.client_order_id) == []


async def test_reply_id_not_found_is_unknown_and_not_retried(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim, suppress_questions=False)
    inst = await ready(broker, sim)
    request = limit(inst, "90.00")  # 10% from last: IBKR asks o163
    sim.fault("http_error", path=r"/iserver/reply/", status=400,
              body='{"error":"reply id not found: 1b2c"}')
    with pytest.raises(OutcomeUnknown, match="reply id not found"):
        await broker.place(request)
    assert mine(sim, request.client_order_id) == []
    assert await broker.order(request.client_order_id) is None


# -- questions ------------------------------------------------------------------------------


async def test_declined_question_is_a_rejection_in_ibkrs_words_and_is_journaled(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    asked: list[QuestionRecord] = []
    broker = await open_broker(sim, confirm=(), on_question=asked.append)
    inst = await ready(broker, sim)
    request = limit(inst, "90.00")
    outcome = await broker.place(request)
    assert isinstance(outcome, Rejected) and outcome.code == "o163"
    assert "Percentage constraint" in outcome.reason
    assert [(q.message_ids, q.confirmed) for q in asked] == [(("o163",), False)]
    assert mine(sim, request.client_order_id) == []


async def test_allowed_questions_are_confirmed_by_id_when_not_suppressed(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    asked: list[QuestionRecord] = []
    broker = await open_broker(sim, suppress_questions=False, on_question=asked.append)
    inst = await ready(broker, sim)
    request = limit(inst, "90.00")
    outcome = await broker.place(request)
    assert isinstance(outcome, Accepted)
    assert asked and all(q.confirmed for q in asked)
    assert {m for q in asked for m in q.message_ids} <= {"o163", "o10153"}
    assert len(mine(sim, request.client_order_id)) == 1


async def test_allowed_ids_are_suppressed_up_front(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    asked: list[QuestionRecord] = []
    broker = await open_broker(sim, on_question=asked.append)
    inst = await ready(broker, sim)
    assert isinstance(await broker.place(limit(inst, "90.00")), Accepted)
    assert asked == []  # o163/o10153 were suppressed when the session began


async def test_concurrent_reads_never_kill_a_pending_question(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    """IBKR discards a question when any other request arrives first; the gate holds this
    process's other requests back until the dialogue ends."""
    asked: list[QuestionRecord] = []
    broker = await open_broker(sim, suppress_questions=False, on_question=asked.append)
    inst = await ready(broker, sim)
    request = limit(inst, "90.00")
    reads = [broker.positions() for _ in range(6)] + [broker.health() for _ in range(3)]
    outcome, *_ = await asyncio.gather(broker.place(request), *reads)
    assert asked, "the test needs a question to be asked"
    assert isinstance(outcome, Accepted)
    assert len(mine(sim, request.client_order_id)) == 1


async def test_suppression_is_renewed_for_each_new_brokerage_session(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    asked: list[QuestionRecord] = []
    broker = await open_broker(sim, on_question=asked.append)
    inst = await ready(broker, sim)
    sim.fault("daily_reset")  # a new brokerage session: IBKR forgets suppressions
    assert isinstance(await broker.open_orders(), list)  # 401 -> new session -> warm-up
    assert isinstance(await broker.place(limit(inst, "90.00")), Accepted)
    assert asked == []


async def test_an_account_the_gateway_does_not_have_is_refused_at_start(
    sim: RunningSim, tmp_path: Path
) -> None:
    broker = build_broker(sim, tmp_path, account="DU9999999")
    try:
        with pytest.raises(BrokerUnavailable, match="DU9999999 is not on this gateway"):
            await broker.start(stream=False)
    finally:
        await broker.close()


# -- session faults -------------------------------------------------------------------------


async def test_expiry_mid_run_refuses_no_order_twice_and_recovers(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim)
    inst = await ready(broker, sim)
    sim.fault("expire_session")
    assert await broker.open_orders() == []  # a read: 401 -> session repaired -> retried
    assert broker.stack.keeper.health.ok
    sim.fault("expire_session")
    request = limit(inst, "98.00")
    try:
        outcome = await broker.place(request)
    except BrokerUnavailable:
        outcome = None  # refused before sending: nothing may exist
        assert mine(sim, request.client_order_id) == []
        outcome = await broker.place(request)
    assert isinstance(outcome, Accepted)
    assert len(mine(sim, request.client_order_id)) == 1


async def test_competing_session_refuses_orders(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim)
    inst = await ready(broker, sim)
    sim.fault("competing_session")
    health = await broker.health()
    assert health.competing and not health.ok
    request = limit(inst, "98.00")
    with pytest.raises(BrokerUnavailable, match="competing"):
        await broker.place(request)
    assert mine(sim, request.client_order_id) == []


@pytest.mark.sim_options(relogin_s=0.5)
async def test_gateway_restart_is_waited_out(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim)
    inst = await ready(broker, sim)
    sim.fault("restart")
    assert isinstance(await broker.open_orders(), list)  # 401 -> wait for IBeam -> retried
    outcome = await broker.place(limit(inst, "98.00"))
    assert isinstance(outcome, Accepted)


# -- pacing ---------------------------------------------------------------------------------


@pytest.mark.sim_options(pacing=True, time_scale=10, penalty_s=900)
async def test_a_storm_of_reads_causes_no_429(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    await _storm(sim, open_broker)


@pytest.mark.sim_options(pacing=True, time_scale=50, penalty_s=900)
async def test_a_storm_of_reads_causes_no_429_at_time_scale_50(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    # at 50x IBKR's 1 s window is 20 ms of real time, less than a busy machine's answer
    # latency: only counting each send from its answer (the latest it can have arrived),
    # not from its grant, keeps the sim's arrival-counted window from being overrun
    await _storm(sim, open_broker)


async def _storm(sim: RunningSim, open_broker: Callable[..., Any]) -> None:
    broker = await open_broker(sim)
    inst = await ready(broker, sim)
    work = [broker.open_orders(), broker.positions(), broker.account(), broker.health()]
    work += [broker.quotes([inst.conid]) for _ in range(20)]
    work += [broker.executions(inst_time(broker)) for _ in range(3)]
    await asyncio.gather(*work)
    assert stats(sim)["rate_limited_total"] == 0


def inst_time(broker: WebApiBroker) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(days=1)


@pytest.mark.sim_options(pacing=True, time_scale=10, penalty_s=900)
async def test_a_429_pauses_its_scope_and_nothing_more_is_sent_to_it(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim)
    inst = await ready(broker, sim)
    sim.fault("http_error", path=r"/iserver/marketdata/snapshot", status=429, count=1)
    with pytest.raises(BrokerUnavailable, match="429"):
        await broker.snapshot([inst.conid])
    before = stats(sim)["requests_total"]
    with pytest.raises(BrokerUnavailable, match="paused"):
        await broker.snapshot([inst.conid])
    assert stats(sim)["requests_total"] == before  # refused locally, not sent
    assert await broker.positions() == []  # other scopes still work


# -- the websocket --------------------------------------------------------------------------


async def _fill_seen(broker: WebApiBroker, inst: Instrument, timeout_s: float = 8.0) -> None:
    stream = broker.events()
    try:
        request = limit(inst, "100.50", qty=2)
        assert isinstance(await broker.place(request), Accepted)
        filled = Decimal(0)
        statuses: list[OrderStatus] = []
        async with asyncio.timeout(timeout_s):
            while filled < 2 or OrderStatus.FILLED not in statuses:
                event = await anext(stream)
                if isinstance(event, FillEvent) and \
                        event.execution.client_order_id == request.client_order_id:
                    filled += event.execution.quantity
                if isinstance(event, OrderEvent) and \
                        event.report.client_order_id == request.client_order_id:
                    statuses.append(event.report.status)
        assert filled == 2
    finally:
        await stream.aclose()


async def test_websocket_drop_reconnects_and_resubscribes(
    sim_factory: Factory, open_broker: Callable[..., Any]
) -> None:
    sim = sim_factory(time_scale=20)
    broker = await open_broker(sim, stream=True)
    inst = await ready(broker, sim)
    assert broker.stream.connections == 1
    sim.fault("ws_drop")
    await until(lambda: _true(broker.stream.connections >= 2))
    await _fill_seen(broker, inst)


async def test_websocket_silence_is_detected_and_the_stream_recovers(
    sim_factory: Factory, open_broker: Callable[..., Any]
) -> None:
    sim = sim_factory(time_scale=20)
    broker = await open_broker(sim, stream=True)
    inst = await ready(broker, sim)
    sim.fault("ws_silence", seconds=600)  # 30 s of real time at scale 20: never waited out
    await until(lambda: _true(broker.stream.silences >= 1 and broker.stream.connections >= 2))
    await _fill_seen(broker, inst)


@pytest.mark.sim_options(relogin_s=0.5)
async def test_websocket_survives_a_gateway_restart(
    sim: RunningSim, open_broker: Callable[..., Any]
) -> None:
    broker = await open_broker(sim, stream=True)
    inst = await ready(broker, sim)
    sim.fault("restart")
    await until(lambda: _true(broker.stream.connections >= 2), timeout_s=15)
    await _fill_seen(broker, inst)


async def _true(value: bool) -> bool:
    return value


async def test_a_service_start_on_an_expired_session_waits_for_the_repair(
    sim: RunningSim, tmp_path: Path
) -> None:
    """After a crash the brokerage session may have expired: `start()` (keepalive, as the
    service runs it) repairs it instead of failing; a one-shot CLI start fails fast."""
    sim.fault("expire_session")
    quick = build_broker(sim, tmp_path / "cli")
    with pytest.raises(BrokerUnavailable, match="not usable"):
        await quick.start(keepalive=False, stream=False)
    await quick.close()

    sim.fault("expire_session")
    service = build_broker(sim, tmp_path / "svc")
    try:
        await service.start(stream=False)
        assert service.stack.keeper.health.ok
    finally:
        await service.close()
