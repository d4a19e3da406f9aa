"""TWS socket framing: the only place that knows how fields become bytes and back.

After the client's ``API\\0`` magic every message is a 4-byte big-endian length followed by
NUL-terminated ASCII fields; field 0 is the message id (../shared/ibkr/tws.md §1). One TCP
read may hold several frames or half of one, so :class:`FrameReader` keeps a buffer and
yields whole frames only.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

__all__ = [
    "MAGIC",
    "MAX_FRAME",
    "Field",
    "FrameReader",
    "ProtocolError",
    "encode",
    "fmt",
    "ib_time",
    "parse_version_range",
]

MAGIC = b"API\0"
#: A frame longer than this is not a TWS client talking; refuse instead of buffering forever.
MAX_FRAME = 1 << 24

Field = str | int | Decimal | bool | None


class ProtocolError(Exception):
    """The peer sent something that is not the TWS protocol; the connection is closed."""


def fmt(value: Field) -> str:
    """One field as TWS writes it: bools as 1/0, None as empty, Decimals without exponent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


def encode(fields: Iterable[Field]) -> bytes:
    """Fields -> one length-prefixed frame."""
    payload = b"".join(fmt(f).encode("utf-8") + b"\0" for f in fields)
    return struct.pack(">I", len(payload)) + payload


def ib_time(when: datetime) -> str:
    """``YYYYMMDD HH:MM:SS UTC``: the zone-suffixed form both ib_async and ibapi accept."""
    return when.astimezone(UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"


def parse_version_range(payload: bytes) -> tuple[int, int]:
    """``v157..178`` (optionally followed by connect options) -> (157, 178)."""
    text = payload.decode("ascii", "replace").strip("\0").split(" ", 1)[0]
    if not text.startswith("v"):
        raise ProtocolError(f"expected a version range like 'v157..178', got {text!r}")
    low, sep, high = text[1:].partition("..")
    try:
        lo = int(low)
        hi = int(high) if sep else lo
    except ValueError as exc:
        raise ProtocolError(f"bad version range {text!r}") from exc
    return lo, hi


class FrameReader:
    """Accumulates bytes; ``frames()`` yields complete payloads split into fields."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf.extend(data)

    def raw_frames(self) -> Iterator[bytes]:
        while len(self._buf) >= 4:
            (size,) = struct.unpack(">I", self._buf[:4])
            if size > MAX_FRAME:
                raise ProtocolError(f"frame of {size} bytes is too large")
            if len(self._buf) < 4 + size:
                return
            payload = bytes(self._buf[4 : 4 + size])
            del self._buf[: 4 + size]
            yield payload

    def frames(self) -> Iterator[list[str]]:
        for payload in self.raw_frames():
            fields = payload.decode("utf-8", "replace").split("\0")
            if fields and fields[-1] == "":
                fields.pop()
            yield fields
