"""Unit tests of the pure server-side pieces: pacing windows, session timers, faults,
questions.  (Behaviour over the wire is covered in tests/integration/sim.)"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from ibkr_sim.faults import FaultBook, parse_fault
from ibkr_sim.pacing import Pacer, scopes_for
from ibkr_sim.questions import QuestionContext, questions_for
from ibkr_sim.session import SessionMachine


class FakeClock:
    def __init__(self) -> None:
        self.mono = 0.0
        self.start = datetime(2026, 3, 2, 23, 59, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.mono)


def test_window_boundary_is_exclusive_of_requests_exactly_w_ago() -> None:
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, penalty_s=10)
    assert pacer.check("a", "POST", "/tickle").allowed
    clock.mono = 1.0  # the first request is now exactly one window old: it no longer counts
    assert pacer.check("a", "POST", "/tickle").allowed
    clock.mono = 1.5
    decision = pacer.check("a", "POST", "/tickle")
    assert not decision.allowed and decision.scope == "tickle"


def test_addresses_are_paced_separately_and_penalty_box_ends() -> None:
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, penalty_s=10)
    pacer.check("a", "GET", "/portfolio/accounts")
    assert not pacer.check("a", "GET", "/portfolio/accounts").allowed
    assert pacer.check("b", "GET", "/portfolio/accounts").allowed
    clock.mono = 9.9
    assert pacer.check("a", "GET", "/iserver/auth/status").reason == "penalty_box"
    clock.mono = 10.1
    assert pacer.check("a", "GET", "/iserver/auth/status").allowed


def test_scopes_table() -> None:
    assert [s.scope for s in scopes_for("GET", "/iserver/marketdata/snapshot")] == [
        "global", "snapshot"]
    assert [s.scope for s in scopes_for("POST", "/iserver/account/DU1/orders")] == ["global"]
    assert [s.scope for s in scopes_for("GET", "/iserver/account/orders")] == [
        "global", "orders"]
    assert [s.scope for s in scopes_for("GET", "/sso/validate")] == ["global", "sso_validate"]


def test_disabled_pacer_counts_but_never_refuses() -> None:
    pacer = Pacer(FakeClock().monotonic, enabled=False)
    assert all(pacer.check("a", "POST", "/tickle").allowed for _ in range(50))
    assert pacer.stats()["requests_total"] == 50


def test_scheduled_daily_reset_crosses_midnight() -> None:
    clock = FakeClock()
    session = SessionMachine(clock, daily_reset=time(0, 1))
    session.observe()
    assert session.authenticated
    clock.mono = 90  # 00:00:30 next day: not yet
    session.touch()
    session.observe()
    assert session.authenticated
    clock.mono = 130  # 00:01:10: reset happened
    session.observe()
    assert not session.authenticated and session.portal
    assert session.next_daily_reset == datetime(2026, 3, 4, 0, 1, tzinfo=UTC)


def test_generation_changes_with_every_new_brokerage_session() -> None:
    clock = FakeClock()
    session = SessionMachine(clock, relogin_s=5)
    first = session.generation
    session.inject_restart()
    clock.mono = 5
    session.observe()
    assert session.authenticated and session.generation == first + 1


def test_fault_counts_are_consumed_and_path_uses_search() -> None:
    book = FaultBook()
    book.add(parse_fault({"kind": "http_error", "status": 500, "path": "orders", "count": 2}))
    assert book.take("http_error", "/v1/api/iserver/account/orders") is not None
    assert book.take("http_error", "/v1/api/tickle") is None
    assert book.take("http_error", "/v1/api/iserver/account/DU1/orders") is not None
    assert book.take("http_error", "/v1/api/iserver/account/orders") is None


@pytest.mark.parametrize("bad", [{"kind": "latency", "ms": True}, {"kind": "ws_silence",
                                                                  "seconds": "x"}])
def test_fault_type_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_fault(bad)


def _ctx(**kw: object) -> QuestionContext:
    base: dict[str, object] = dict(
        side="SELL", order_type="LMT", quantity=Decimal(1), symbol="IBM", listing_exchange="NYSE",
        limit_price=Decimal("100"), last=Decimal("100"), entitled=True,
        size_limit=Decimal(500), value_limit=Decimal(100000), price_constraint_pct=Decimal(3))
    base.update(kw)
    return QuestionContext(**base)  # type: ignore[arg-type]


def test_three_percent_is_not_more_than_three_percent() -> None:
    assert questions_for(_ctx(limit_price=Decimal("103")), frozenset()) == []
    ids = [q.message_id for q in questions_for(_ctx(limit_price=Decimal("103.01")), frozenset())]
    assert ids == ["o163", "o10153"]
    text = questions_for(_ctx(limit_price=Decimal("90")), frozenset())[0].text
    assert text.startswith('The following order "SELL 1 IBM NYSE @ 90.00" price exceeds')


def test_all_questions_in_order_and_suppression() -> None:
    ctx = _ctx(order_type="MKT", limit_price=None, quantity=Decimal(1000), entitled=False,
               last=Decimal("100.01"))
    assert [q.message_id for q in questions_for(ctx, frozenset())] == [
        "o354", "o383", "o451", "o10151"]
    assert [q.message_id for q in questions_for(ctx, frozenset({"o354", "o451"}))] == [
        "o383", "o10151"]


def test_fault_numbers_arrive_as_decimal_from_the_control_api() -> None:
    """The control API parses JSON numbers as Decimal; fractional seconds must be accepted."""
    from decimal import Decimal

    from ibkr_sim.faults import parse_fault

    fault = parse_fault({"kind": "ws_silence", "seconds": Decimal("0.5")})
    assert fault.seconds == 0.5
    assert parse_fault({"kind": "latency", "ms": Decimal("250"), "count": Decimal("2")}).count == 2
    with pytest.raises(ValueError, match="finite"):
        parse_fault({"kind": "latency", "ms": Decimal("Infinity")})
