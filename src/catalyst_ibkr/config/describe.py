"""The effective settings as plain data, secrets masked: what ``config check`` prints.

Kept next to the models (not in the CLI) so the service can show the same view, e.g. in
its startup log, without a second, drifting copy of the masking rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from catalyst_ibkr.config.risk_table import effective_risk_table
from catalyst_ibkr.config.secrets import MASK, MaskedUrl
from catalyst_ibkr.config.settings import SECTION_MODELS, SECTIONS, LoadedSettings

__all__ = ["EffectiveValue", "effective_document", "effective_values", "masked_value"]


@dataclass(frozen=True)
class EffectiveValue:
    """One key's value as shown to people (JSON types only; secrets masked)."""

    section: str
    key: str
    value: Any
    source: str


def masked_value(value: Any) -> Any:
    """A settings value as JSON-ready data with every secret masked."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, MaskedUrl):
        return value.masked
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return masked_value(value.value)
    if isinstance(value, list | tuple | frozenset | set):
        return [masked_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): masked_value(v) for k, v in value.items()}
    return str(value)


def effective_values(loaded: LoadedSettings) -> list[EffectiveValue]:
    """Every key of every section, in documentation order, with where it came from."""
    rows: list[EffectiveValue] = []
    for section in SECTIONS:
        if section == "risk":
            table = loaded.settings.risk.table
            for key, value in effective_risk_table(table).items():
                rows.append(
                    EffectiveValue("risk", key, masked_value(value), loaded.source_of("risk", key))
                )
            continue
        model = getattr(loaded.settings, section)
        for key in SECTION_MODELS[section].model_fields:
            rows.append(
                EffectiveValue(
                    section, key, masked_value(getattr(model, key)), loaded.source_of(section, key)
                )
            )
    return rows


def effective_document(loaded: LoadedSettings) -> dict[str, Any]:
    """The JSON document of ``config check --json``."""
    settings: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    sources: dict[str, dict[str, str]] = {section: {} for section in SECTIONS}
    for row in effective_values(loaded):
        settings[row.section][row.key] = row.value
        sources[row.section][row.key] = row.source
    return {
        "valid": True,
        "config_file": str(loaded.path) if loaded.path is not None else None,
        "defaults_only": loaded.path is None and not loaded.sources,
        "settings": settings,
        "sources": sources,
        "warnings": list(loaded.warnings),
    }
