"""Strict typing of raw config values before pydantic sees them.

Pydantic's lax mode would quietly turn ``true`` into ``1`` or ``"10"`` into ``10``; in a
trading config that hides mistakes (``guard_ms = true``). So values from the TOML file must
already have the right TOML type, and values from environment variables (always strings) are
parsed by the expected type with a clear error. Pydantic then checks ranges and formats.
"""

from __future__ import annotations

import math
import re
import types
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from catalyst_ibkr.config.secrets import MaskedUrl

__all__ = [
    "Kind",
    "ValueSpec",
    "check_file_value",
    "describe_toml_type",
    "parse_env_value",
    "spec_for",
]


class Kind(Enum):
    """The shapes a config value can have, as a person writes them."""

    STR = "a string"
    INT = "an integer"
    FLOAT = "a number"
    DECIMAL = "a decimal number"
    BOOL = "true or false"
    PATH = "a path (string)"
    STR_LIST = "a list of strings"
    SECRET = "a string (secret)"


@dataclass(frozen=True)
class ValueSpec:
    """What one key accepts."""

    kind: Kind
    optional: bool
    choices: tuple[str, ...] = ()

    @property
    def secret(self) -> bool:
        return self.kind is Kind.SECRET

    @property
    def expected(self) -> str:
        """Human description, e.g. ``one of "paper", "live"``."""
        if self.choices:
            return "one of " + ", ".join(f'"{choice}"' for choice in self.choices)
        return self.kind.value


def spec_for(field: FieldInfo) -> ValueSpec:
    """Derive the accepted shape from a pydantic field's annotation."""
    annotation: Any = field.annotation
    optional = False
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(args) != len(get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported config annotation {annotation!r}")
        annotation = args[0]
        origin = get_origin(annotation)
    if origin is Literal:
        return ValueSpec(Kind.STR, optional, tuple(str(arg) for arg in get_args(annotation)))
    if origin is tuple:
        return ValueSpec(Kind.STR_LIST, optional)
    simple: dict[Any, Kind] = {
        str: Kind.STR,
        int: Kind.INT,
        float: Kind.FLOAT,
        Decimal: Kind.DECIMAL,
        bool: Kind.BOOL,
        Path: Kind.PATH,
        SecretStr: Kind.SECRET,
    }
    if annotation in simple:
        return ValueSpec(simple[annotation], optional)
    if isinstance(annotation, type) and issubclass(annotation, MaskedUrl):
        return ValueSpec(Kind.SECRET, optional)
    raise TypeError(f"unsupported config annotation {annotation!r}")


def describe_toml_type(value: object) -> str:
    """The TOML name of a parsed value's type, for error messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


class ValueTypeError(ValueError):
    """A raw value has the wrong type; the message says what was expected."""


def check_file_value(spec: ValueSpec, value: object) -> object:
    """Return the value if its TOML type fits ``spec``, else raise ValueTypeError."""
    kind = spec.kind
    ok: bool
    if kind in (Kind.STR, Kind.PATH, Kind.SECRET):
        ok = isinstance(value, str)
    elif kind is Kind.INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is Kind.FLOAT:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind is Kind.DECIMAL:
        ok = isinstance(value, int | float | str) and not isinstance(value, bool)
        if ok:
            return _decimal(str(value))
    elif kind is Kind.BOOL:
        ok = isinstance(value, bool)
    else:  # STR_LIST
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        if ok:
            return tuple(value)  # type: ignore[arg-type]
    if not ok:
        raise ValueTypeError(_wrong_type(spec, value))
    if spec.choices and value not in spec.choices:
        raise ValueTypeError(f"expected {spec.expected}, got {value!r}")
    return value


def _wrong_type(spec: ValueSpec, value: object) -> str:
    got = describe_toml_type(value)
    if spec.secret:
        article = "an" if got[0] in "aeiou" else "a"
        return f"expected {spec.expected}, got {article} {got} (value hidden)"
    hint = ""
    if isinstance(value, str) and spec.kind in (Kind.INT, Kind.FLOAT, Kind.DECIMAL, Kind.BOOL):
        hint = " (write it without quotes)"
    elif spec.kind is Kind.STR_LIST and isinstance(value, str):
        hint = f' (write a list: ["{value}"])'
    return f"expected {spec.expected}, got {got} {value!r}{hint}"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_INT = re.compile(r"^[+-]?[0-9]+$")


def parse_env_value(spec: ValueSpec, text: str) -> object:
    """Parse an environment variable's text as ``spec``; raise ValueTypeError if it does not fit.

    An empty value unsets an optional key (``None``). Lists are comma-separated.
    """
    stripped = text.strip()
    shown = "(hidden)" if spec.secret else repr(text)
    if stripped == "":
        if spec.optional:
            return None
        if spec.kind is Kind.STR_LIST:
            return ()
        raise ValueTypeError(f"expected {spec.expected}, got an empty value")
    kind = spec.kind
    if kind in (Kind.STR, Kind.PATH, Kind.SECRET):
        if spec.choices and stripped not in spec.choices:
            raise ValueTypeError(f"expected {spec.expected}, got {shown}")
        return stripped if kind is not Kind.SECRET else text
    if kind is Kind.INT:
        if not _INT.match(stripped):
            raise ValueTypeError(f"expected {spec.expected}, got {shown}")
        return int(stripped)
    if kind is Kind.FLOAT:
        try:
            number = float(stripped)
        except ValueError:
            raise ValueTypeError(f"expected {spec.expected}, got {shown}") from None
        if not math.isfinite(number):
            raise ValueTypeError(f"expected a finite number, got {shown}")
        return number
    if kind is Kind.DECIMAL:
        return _decimal(stripped)
    if kind is Kind.BOOL:
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueTypeError(f"expected true or false (or 1/0, yes/no, on/off), got {shown}")
    return tuple(part.strip() for part in stripped.split(",") if part.strip())


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueTypeError(f"expected a decimal number, got {text!r}") from None
    if not value.is_finite():
        raise ValueTypeError(f"expected a finite decimal number, got {text!r}")
    return value
