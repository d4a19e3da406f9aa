"""The journal's time column: fixed-width UTC text, exact round trip, strict on reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from catalyst_ibkr.service.journal.types import UtcText

DIALECT = sqlite.dialect()


@pytest.mark.parametrize("moment", [
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 11, 25, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 6, 1, 12, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-5))),
])
def test_times_are_stored_as_fixed_width_utc_text_and_read_back_exactly(
    moment: datetime,
) -> None:
    column = UtcText()
    text = column.process_bind_param(moment, DIALECT)
    assert text == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    back = column.process_result_value(text, DIALECT)
    assert back == moment and back is not None and back.tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-01-01 00:00:00.000000Z", "2026-01-01T00:00:00Z",
                                  "2026-01-01T00:00:00.000000+00:00", "yesterday"])
def test_text_in_another_shape_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        UtcText().process_result_value(text, DIALECT)
