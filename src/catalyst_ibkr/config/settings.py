"""``Settings``: every section of the config, frozen, plus where each value came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import Field, PrivateAttr, field_serializer, field_validator

from catalyst_ibkr.config.risk_table import validate_risk_table
from catalyst_ibkr.config.sections import (
    GatewaySettings,
    OmsSettings,
    PacingSettings,
    QuestionsSettings,
    SectionModel,
    ServiceSettings,
)
from catalyst_ibkr.config.sections_ops import AlertsSettings, WatchdogSettings
from catalyst_ibkr.core.risk import RiskLimits

__all__ = ["SECTIONS", "SECTION_MODELS", "LoadedSettings", "RiskSettings", "Settings"]


class RiskSettings(SectionModel):
    """The ``[risk]`` table as written; its meaning belongs to catalyst_ibkr.core.risk.

    The raw table is kept (for ``config check`` sources and round-trips); ``limits`` is the
    validated, frozen ``RiskLimits`` built from it once, at construction.
    """

    table: Mapping[str, Any] = Field(default_factory=lambda: MappingProxyType({}))
    _limits: RiskLimits = PrivateAttr()

    @field_validator("table", mode="after")
    @classmethod
    def _freeze(cls, value: Mapping[str, Any]) -> Mapping[str, Any]:
        return MappingProxyType(dict(value))

    @field_serializer("table")
    def _dump(self, value: Mapping[str, Any]) -> dict[str, Any]:
        return dict(value)

    def model_post_init(self, context: Any, /) -> None:
        self._limits = validate_risk_table(self.table)

    @property
    def limits(self) -> RiskLimits:
        """The validated pre-trade limits (defaults for every key the table leaves out)."""
        return self._limits


class Settings(SectionModel):
    """The whole configuration. Build it with ``load_settings``; every default is conservative."""

    # Factories, not instances: pydantic deep-copies an instance default, and the risk
    # table's read-only mapping cannot be copied, so `Settings()` itself used to fail.
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)
    questions: QuestionsSettings = Field(default_factory=QuestionsSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    oms: OmsSettings = Field(default_factory=OmsSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    watchdog: WatchdogSettings = Field(default_factory=WatchdogSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)


#: Section name -> model, in the order of interfaces.md (risk is handled separately).
SECTION_MODELS: Mapping[str, type[SectionModel]] = MappingProxyType(
    {
        "gateway": GatewaySettings,
        "pacing": PacingSettings,
        "questions": QuestionsSettings,
        "oms": OmsSettings,
        "service": ServiceSettings,
        "watchdog": WatchdogSettings,
        "alerts": AlertsSettings,
    }
)
SECTIONS: tuple[str, ...] = (
    "gateway",
    "pacing",
    "questions",
    "risk",
    "oms",
    "service",
    "watchdog",
    "alerts",
)


@dataclass(frozen=True)
class LoadedSettings:
    """Settings together with their provenance, for ``config check`` and error messages.

    ``sources`` maps ``"section.key"`` to ``"default"``, ``"file"``, ``"env NAME"`` or
    ``"flag --name"`` for every key that was set by something other than a default (keys
    absent from it are defaults). ``path`` is the file read, or None when defaults were used.
    """

    settings: Settings
    path: Path | None
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """How messages name the configuration's origin."""
        return str(self.path) if self.path is not None else "(no config file; defaults)"

    def source_of(self, section: str, key: str) -> str:
        """Where ``[section] key`` came from."""
        return self.sources.get(f"{section}.{key}", "default")
