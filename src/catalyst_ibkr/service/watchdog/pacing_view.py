"""Pacing headroom per endpoint scope, read from the Web API governor for operators.

Why: a 429 costs a 10-15 minute penalty box, so the dashboard shows, per metered scope, how
many sends the current window still allows and whether a scope is paused. Read-only: the
decision to send stays with the governor. If the governor offers a public ``headroom()``
it is used; otherwise its send log is read through the store's own transaction (the same
lock the governor takes), which never changes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["ScopeHeadroom", "pacing_headroom"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScopeHeadroom:
    scope: str
    limit: int  # requests per window
    per_s: float  # IBKR's window, in IBKR seconds
    window_s: float  # our effective window (margin, time scale, guard applied)
    used: int  # sends counted in the current window
    remaining: int
    paused_until: float | None = None  # epoch seconds, after a 429

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "limit": self.limit,
            "per_s": self.per_s,
            "window_s": round(self.window_s, 3),
            "used": self.used,
            "remaining": self.remaining,
            "paused_until": self.paused_until,
        }


def pacing_headroom(governor: Any) -> list[ScopeHeadroom]:
    """Headroom of every rate-limited scope (``global`` first); [] if it cannot be read."""
    public = getattr(governor, "headroom", None)
    if callable(public):
        result: list[ScopeHeadroom] = list(public())
        return result
    try:
        return _read(governor)
    except Exception as exc:  # an operator view must never break the service
        log.debug("pacing headroom unavailable: %s", exc)
        return []


def _read(governor: Any) -> list[ScopeHeadroom]:
    limits: dict[str, Any] = dict(governor._limits)
    now: float = governor._clock.time()
    windows = {scope: float(governor.window_s(scope)) for scope in limits}

    def read(state: Any) -> list[ScopeHeadroom]:
        rows: list[ScopeHeadroom] = []
        for scope, limit in limits.items():
            window = windows[scope]
            used = sum(
                1
                for record in state.sends.get(scope, ())
                if (record.end if record.end is not None else now) > now - window
            )
            until = state.penalty.get(scope)
            rows.append(
                ScopeHeadroom(
                    scope=scope,
                    limit=int(limit.count),
                    per_s=float(limit.per_s),
                    window_s=window,
                    used=used,
                    remaining=max(0, int(limit.count) - used),
                    paused_until=until if until is not None and until > now else None,
                )
            )
        return rows

    rows: list[ScopeHeadroom] = governor._store.transact(read)
    rows.sort(key=lambda row: (row.scope != "global", row.scope))
    return rows
