"""Request-body decoding, the idempotency fingerprint and the keys' repr (pure units)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst_ibkr.api.auth import ApiKeys
from catalyst_ibkr.api.body import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    decode_json_object,
    signal_fingerprint,
)
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.signals import Signal

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _signal(**body: object) -> Signal:
    base: dict[str, object] = {"id": "s-1", "symbol": "AAPL", "side": "BUY", "quantity": "10",
                               "order_type": "LMT", "limit_price": "190.5"}
    return Signal.from_mapping({**base, **body}, NOW)


def test_numbers_are_decimals_never_floats() -> None:
    body = decode_json_object(b'{"q": 101.5, "n": 3, "e": 1e2}')
    assert body == {"q": Decimal("101.5"), "n": 3, "e": Decimal("1E+2")}
    assert isinstance(body["q"], Decimal)


@pytest.mark.parametrize("raw", [
    b'{"q": NaN}', b'{"q": Infinity}', b'{"q": -Infinity}', b"[1]", b'"x"', b"", b"  ",
    b"{", b'{"a": 1,}', b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000,
    b'{"q": ' + b"9" * 5000 + b"}",
])
def test_unusable_bodies_are_invalid_input_on_body(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_json_object(raw)
    assert caught.value.field == "body" and caught.value.issues[0].problem


def test_oversized_body_is_refused() -> None:
    with pytest.raises(BodyTooLarge):
        decode_json_object(b'{"a": "' + b"x" * MAX_BODY_BYTES + b'"}')


def test_fingerprint_is_the_meaning_not_the_spelling() -> None:
    first = signal_fingerprint(_signal())
    assert signal_fingerprint(_signal(quantity=10, limit_price=Decimal("190.50"))) == first
    assert signal_fingerprint(_signal(quantity="10.0")) == first
    assert signal_fingerprint(_signal(quantity="11")) != first
    assert signal_fingerprint(_signal(side="SELL")) != first
    assert signal_fingerprint(_signal(strategy="x")) != first
    # received_at is when it arrived, not what was asked: a retry has the same fingerprint.
    later = Signal.from_mapping({"id": "s-1", "symbol": "AAPL", "side": "BUY", "quantity": "10",
                                 "order_type": "LMT", "limit_price": "190.5"},
                                NOW.replace(hour=15))
    assert signal_fingerprint(later) == first


def test_a_default_ttl_is_not_part_of_the_body_that_was_sent() -> None:
    base = {"id": "s-1", "symbol": "AAPL", "side": "BUY", "quantity": "10",
            "order_type": "LMT", "limit_price": "190.5"}
    defaulted = Signal.from_mapping(base, NOW, default_ttl_s=Decimal(5))
    assert defaulted.ttl_s == 5
    # the same body as sent without any default: a change of [oms] default_ttl_s between a
    # request and its retry must not turn the retry into a 409
    assert signal_fingerprint(defaulted, ttl_s_sent=False) == signal_fingerprint(_signal())
    assert signal_fingerprint(defaulted) != signal_fingerprint(_signal())
    own = Signal.from_mapping({**base, "ttl_s": "30"}, NOW, default_ttl_s=Decimal(5))
    assert own.ttl_s == 30 and signal_fingerprint(own) != signal_fingerprint(_signal())


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4))
def test_fingerprint_ignores_trailing_zeros(quantity: Decimal) -> None:
    padded = format(quantity, "f") + ("0" if "." in format(quantity, "f") else ".0")
    assert signal_fingerprint(_signal(quantity=quantity)) == \
        signal_fingerprint(_signal(quantity=padded))


def test_keys_never_show_in_repr() -> None:
    keys = ApiKeys(api_key="secret-api", admin_key="secret-admin")
    assert "secret" not in repr(keys) and "set" in repr(keys)
    assert keys.required and not ApiKeys().required
