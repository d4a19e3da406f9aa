"""What a benchmark hands to the report: tables, the minimum it is measured against, goals."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Goal", "Table", "WorkloadReport"]


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Goal:
    text: str
    met: bool | None  # None: could not be measured in this run


@dataclass
class WorkloadReport:
    key: str
    title: str
    what: str
    tables: list[Table] = field(default_factory=list)
    minimum: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: str | None = None
    elapsed_s: float = 0.0
