"""Framing of the fake TWS: the byte layout every message relies on."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibkr_sim.tws.incoming import parse_exec_time
from ibkr_sim.tws.wire import FrameReader, ProtocolError, encode, fmt, parse_version_range


def test_field_formatting() -> None:
    assert fmt(None) == "" and fmt(True) == "1" and fmt(False) == "0"
    assert fmt(Decimal("100.00")) == "100" and fmt(Decimal("100.010")) == "100.01"
    assert fmt(Decimal("1E+2")) == "100" and fmt(Decimal("0.0001")) == "0.0001"
    assert fmt(Decimal("0")) == "0" and fmt(-1) == "-1"


def test_encode_is_length_prefixed_nul_terminated() -> None:
    frame = encode([9, 1, 42])
    assert frame == struct.pack(">I", 7) + b"9\x001\x0042\x00"


@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00",
                                                           blacklist_categories=("Cs",)),
                                          max_size=12), min_size=1, max_size=8),
                min_size=1, max_size=6),
       st.integers(min_value=1, max_value=7))
def test_frames_survive_any_split(messages: list[list[str]], chunk: int) -> None:
    data = b"".join(encode(m) for m in messages)
    reader = FrameReader()
    got: list[list[str]] = []
    for start in range(0, len(data), chunk):
        reader.feed(data[start:start + chunk])
        got.extend(reader.frames())
    assert got == messages


def test_oversized_frame_is_refused() -> None:
    reader = FrameReader()
    reader.feed(struct.pack(">I", 1 << 30))
    with pytest.raises(ProtocolError):
        list(reader.frames())


@pytest.mark.parametrize(("payload", "expected"), [
    (b"v157..178", (157, 178)),
    (b"v100..226 +PACEAPI", (100, 226)),
    (b"v176", (176, 176)),
])
def test_version_range(payload: bytes, expected: tuple[int, int]) -> None:
    assert parse_version_range(payload) == expected


def test_version_range_rejects_garbage() -> None:
    with pytest.raises(ProtocolError):
        parse_version_range(b"GET / HTTP/1.1")


def test_exec_filter_times() -> None:
    assert parse_exec_time("20261125-13:30:00").isoformat() == "2026-11-25T13:30:00+00:00"
    assert parse_exec_time("20261125 08:30:00 US/Eastern").isoformat() == \
        "2026-11-25T13:30:00+00:00"
    assert parse_exec_time("") is None and parse_exec_time("yesterday") is None
