"""Shared building blocks of the wire models: tolerant scalar types and the base model.

``ConId``/``WireOrderId`` accept int or string; ``WireDecimal`` accepts IBKR's many number
spellings (see ``decimal_or_none``). ``WireModel`` keeps unknown keys so a new gateway build
does not break parsing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = ["ConId", "WireDecimal", "WireModel", "WireOrderId", "decimal_or_none"]

_PLACEHOLDERS = frozenset({"", "-", "N/A", "NA", "n/a", "null", "None"})


def _to_int(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def decimal_or_none(value: Any) -> Decimal | None:
    """IBKR's many spellings of a number -> Decimal; placeholders -> None.

    Raises ValueError for text that is neither a number nor a known placeholder, so a
    garbled field is noticed instead of silently becoming zero.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if text in _PLACEHOLDERS:
            return None
        try:
            result = Decimal(text.replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {text[:40]!r}") from exc
        if not result.is_finite():
            return None
        return result
    raise ValueError(f"not a number: {type(value).__name__}")


ConId = Annotated[int, BeforeValidator(_to_int)]
WireOrderId = Annotated[int, BeforeValidator(_to_int)]
WireDecimal = Annotated[Decimal | None, BeforeValidator(decimal_or_none)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)
