"""Views to JSON: decimals as strings, times as ISO 8601 UTC with a `Z`.

Why strings for money and quantities: a JSON number is read as a binary float by most
clients, and `0.1 + 0.2` is not how a position should be summed (team brief).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """Plain JSON types for a view, a mapping or a list of them."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)
