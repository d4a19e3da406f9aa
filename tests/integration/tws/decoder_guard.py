"""Fail a test when ib_async (or IB's own client) could not decode what the fake TWS sent.

Both clients catch decode exceptions and only log them, so without this a field-order bug in
the fake would pass silently. The guard looks for the decoders' own log lines, not for
TWS error messages (a rejected order is a legitimate error message, not a decode failure).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DecoderErrors", "decoder_guard"]

#: Decoder failures, plus ib_async's complaint about a status for an order it was never told
#: about (the fake must send openOrder first and only to clients that know the order).
_DECODE_MARKERS = ("Error handling fields", "Error for ", "No order found")


class DecoderErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.name.endswith("Decoder") or any(m in text for m in _DECODE_MARKERS) or (
            record.exc_info is not None and record.name.startswith(("ib_async", "ibapi"))
        ):
            self.records.append(record)

    def problems(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()[:300]}" for r in self.records]


@contextmanager
def decoder_guard() -> Iterator[DecoderErrors]:
    handler = DecoderErrors()
    loggers = [logging.getLogger("ib_async"), logging.getLogger("ibapi")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert not handler.records, "a TWS client failed to decode the fake's messages:\n" + \
        "\n".join(handler.problems())
