"""The ``[risk]`` table: validated by the pure core's ``RiskLimits.from_mapping``.

The core owns what the risk keys mean (catalyst_ibkr.core.risk, docs/risk.md); config only
carries the table there and turns a ``RiskConfigError`` into a config error that names the
file and, for a typo, the nearest valid key.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from catalyst_ibkr.core.risk import RiskConfigError, RiskLimits

__all__ = ["RiskTableError", "effective_risk_table", "known_risk_keys", "validate_risk_table"]


class RiskTableError(ValueError):
    """One bad key in ``[risk]``: ``key`` and ``problem`` (no file path; the loader adds it)."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


def known_risk_keys() -> tuple[str, ...]:
    """Keys ``RiskLimits.from_mapping`` accepts (its fields, plus the trading-hours helpers)."""
    names = {f.name for f in fields(RiskLimits)} | {"trading_timezone", "trading_days"}
    return tuple(sorted(names))


def validate_risk_table(table: Mapping[str, Any]) -> RiskLimits:
    """The validated limits; raises RiskTableError naming the key (and a near miss)."""
    try:
        return RiskLimits.from_mapping(dict(table))
    except RiskConfigError as exc:
        key, problem = exc.key, exc.problem
        known = known_risk_keys()
        if key not in known and key in table:
            near = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
            hint = f"did you mean '{near[0]}'? " if near else ""
            problem = f"unknown key; {hint}(valid keys: {', '.join(known)})"
        raise RiskTableError(key, problem) from exc
    except OSError as exc:
        # The only I/O in from_mapping is the time-zone lookup: ZoneInfo("America") raises
        # IsADirectoryError, which the core does not catch (reported to core-risk).
        raise RiskTableError(
            "trading_timezone", "unknown time zone; use an IANA name such as America/New_York"
        ) from exc


def effective_risk_table(table: Mapping[str, Any]) -> dict[str, Any]:
    """What ``config check`` shows: every limit with defaults filled in, as TOML-like values."""
    return validate_risk_table(table).to_mapping()
