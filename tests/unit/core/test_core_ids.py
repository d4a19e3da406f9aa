"""Identifier types: validation and the deterministic cOID (reliability C25)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import (
    COID_MAX_LEN,
    AccountId,
    BrokerOrderId,
    ClientOrderId,
    ConId,
    ExecutionId,
    SignalId,
    StrategyId,
)

signal_ids = st.from_regex(r"[A-Za-z0-9._:~-]{1,128}", fullmatch=True)


@given(signal_ids, st.sampled_from(["", "tp", "sl", "p1"]))
def test_coid_is_deterministic_short_and_safe(raw: str, leg: str) -> None:
    signal_id = SignalId(raw)
    first = ClientOrderId.for_signal(signal_id, leg)
    assert first == ClientOrderId.for_signal(SignalId(raw), leg)
    assert len(first) <= COID_MAX_LEN
    assert ClientOrderId(str(first)) == first  # it passes its own validation


@given(signal_ids, signal_ids)
def test_different_signals_get_different_coids(a: str, b: str) -> None:
    if a != b:
        assert ClientOrderId.for_signal(SignalId(a)) != ClientOrderId.for_signal(SignalId(b))


def test_coid_keeps_distinct_ids_apart_even_when_sanitised_alike() -> None:
    one = ClientOrderId.for_signal(SignalId("a~b"))
    two = ClientOrderId.for_signal(SignalId("a_b"))
    assert one.startswith("a_b-") and two.startswith("a_b-")
    assert one != two


def test_bracket_legs_get_their_own_coid() -> None:
    sid = SignalId("sig-42")
    coids = {ClientOrderId.for_signal(sid, leg) for leg in ("", "tp", "sl")}
    assert len(coids) == 3
    with pytest.raises(InvalidInput, match="leg"):
        ClientOrderId.for_signal(sid, "Take Profit")


@pytest.mark.parametrize(
    ("factory", "raw", "field"),
    [
        (SignalId, "", "id"),
        (SignalId, "has space", "id"),
        (SignalId, "x" * 129, "id"),
        (SignalId, "ünïcode", "id"),
        (SignalId, "a/b", "id"),
        (SignalId, "a?b", "id"),
        (StrategyId, "a b", "strategy"),
        (ClientOrderId, "x" * 65, "cOID"),
        (AccountId, "DU-1", "account"),
        (ExecutionId, "", "execution_id"),
        (BrokerOrderId, "", "order_id"),
    ],
)
def test_bad_ids_are_refused_with_the_field_name(factory: type, raw: str, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        factory(raw)
    assert info.value.field == field


def test_ids_are_plain_values_on_the_wire() -> None:
    assert BrokerOrderId(1234567890) == BrokerOrderId("1234567890") == "1234567890"
    assert ExecutionId("0000e0d5.6576fd38.01.01") == "0000e0d5.6576fd38.01.01"
    with pytest.raises(InvalidInput):
        BrokerOrderId(True)


def test_conid_accepts_positive_ints_and_digit_strings() -> None:
    assert ConId("265598") == 265598
    for bad in (0, -5, "12a", "", True, 1.0):
        with pytest.raises(InvalidInput, match="conid"):
            ConId(bad)  # type: ignore[arg-type]


def test_paper_accounts_are_recognised() -> None:
    assert AccountId("DU1234567").is_paper
    assert not AccountId("U1234567").is_paper
