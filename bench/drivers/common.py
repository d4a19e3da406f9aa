"""The child side of the harness protocol: read the spec, announce START, report RESULT."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "QUOTE_FIELDS", "Outcome", "Timer", "finish", "load_spec", "progress", "start", "wanted_fields",
]

#: last, bid, ask (cpapi.md §5.2)
QUOTE_FIELDS = ["31", "84", "86"]


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    return spec


@dataclass
class Timer:
    started: float = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def start() -> Timer:
    """Announce that the measured part begins (the parent starts its clock here too)."""
    print("START", flush=True)
    return Timer(time.perf_counter())


@dataclass
class Outcome:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    skipped: str | None = None


def finish(timer: Timer | None, outcome: Outcome) -> None:
    wall = timer.elapsed() if timer is not None else 0.0
    doc = {"ok": outcome.ok, "wall_s": wall, "detail": outcome.detail,
           "error": outcome.error, "skipped": outcome.skipped}
    print("RESULT " + json.dumps(doc), flush=True)


def wanted_fields(row: dict[str, Any]) -> bool:
    """A quote counts only with last, bid and ask all present and numeric-looking."""
    for code in QUOTE_FIELDS:
        value = row.get(code)
        if not isinstance(value, str) or not value.lstrip("CH").replace(".", "", 1).isdigit():
            return False
    return True


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
