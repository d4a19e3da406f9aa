"""IBKR's request pacing (cpapi.md §7) as a pure, clock-driven rule book.

Per client address and scope, a sliding window counted on arrival: a request is over the
limit if, counting it, more than N requests from that address hit that scope in the last W
seconds.  Every request belongs to the ``global`` scope (10/s) and possibly to one endpoint
scope from the table below.  Going over any limit answers 429 and puts the address in the
penalty box, during which every request from it gets 429.  Rejected requests still count:
the gateway sees them arrive, which is what makes hammering self-defeating.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ENDPOINT_LIMITS", "ClientStats", "Limit", "PaceDecision", "Pacer"]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per ``window_s`` seconds for paths matching ``pattern``."""

    scope: str
    methods: frozenset[str] | None
    pattern: re.Pattern[str]
    count: int
    window_s: float


def _limit(scope: str, methods: str | None, pattern: str, count: int, window_s: float) -> Limit:
    ms = frozenset(methods.split(",")) if methods else None
    return Limit(scope, ms, re.compile(pattern), count, window_s)


GLOBAL_LIMIT = _limit("global", None, r"", 10, 1.0)

# Paths are matched after the /v1/api (or /v1/portal) prefix is removed.
ENDPOINT_LIMITS: tuple[Limit, ...] = (
    _limit("snapshot", "GET", r"^/iserver/marketdata/snapshot$", 10, 1.0),
    _limit("orders", "GET", r"^/iserver/(account/)?orders$", 1, 5.0),
    _limit("trades", "GET", r"^/iserver/(account/)?trades$", 1, 5.0),
    _limit("pnl", "GET", r"^/iserver/account/pnl/partitioned$", 1, 5.0),
    _limit("scanner_params", "GET", r"^/iserver/scanner/params$", 1, 900.0),
    _limit("scanner_run", "POST", r"^/iserver/scanner/run$", 1, 1.0),
    _limit("portfolio_accounts", "GET", r"^/portfolio/accounts$", 1, 5.0),
    _limit("portfolio_subaccounts", "GET", r"^/portfolio/subaccounts$", 1, 5.0),
    _limit("pa", "POST", r"^/pa/(performance|summary|transactions)$", 1, 900.0),
    _limit("fyi", None, r"^/fyi/", 1, 1.0),
    _limit("tickle", None, r"^/tickle$", 1, 1.0),
    _limit("sso_validate", "GET", r"^/sso/validate$", 1, 60.0),
)


def scopes_for(method: str, path: str) -> list[Limit]:
    """The limits one request counts against: always ``global``, plus at most one endpoint."""
    found = [GLOBAL_LIMIT]
    for limit in ENDPOINT_LIMITS:
        if (limit.methods is None or method in limit.methods) and limit.pattern.search(path):
            found.append(limit)
            break
    return found


@dataclass
class ClientStats:
    requests_total: int = 0
    rate_limited_total: int = 0
    penalty_box_total: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "requests_total": self.requests_total,
            "rate_limited_total": self.rate_limited_total,
            "penalty_box_total": self.penalty_box_total,
        }


@dataclass(frozen=True)
class PaceDecision:
    allowed: bool
    reason: Literal["ok", "rate_limited", "penalty_box"]
    scope: str | None = None
    retry_after_s: float = 0.0


@dataclass
class _Client:
    windows: dict[str, deque[float]] = field(default_factory=dict)
    penalty_until: float | None = None
    stats: ClientStats = field(default_factory=ClientStats)


class Pacer:
    """Counts requests per address and decides allow / 429; also owns the ``stats`` numbers."""

    def __init__(
        self, monotonic: Callable[[], float], *, enabled: bool = True, penalty_s: float = 900.0
    ) -> None:
        self._monotonic = monotonic
        self.enabled = enabled
        self.penalty_s = penalty_s
        self._clients: dict[str, _Client] = {}
        self.totals = ClientStats()

    def reset(self) -> None:
        self._clients.clear()
        self.totals = ClientStats()

    def check(self, address: str, method: str, path: str) -> PaceDecision:
        """Count one arriving request and say whether it may proceed."""
        now = self._monotonic()
        client = self._clients.setdefault(address, _Client())
        client.stats.requests_total += 1
        self.totals.requests_total += 1
        if not self.enabled:
            return PaceDecision(True, "ok")
        if client.penalty_until is not None:
            if now < client.penalty_until:
                self._count_429(client)
                return PaceDecision(
                    False, "penalty_box", retry_after_s=client.penalty_until - now
                )
            client.penalty_until = None
        over: Limit | None = None
        for limit in scopes_for(method, path):
            window = client.windows.setdefault(limit.scope, deque())
            window.append(now)
            while window and window[0] <= now - limit.window_s:
                window.popleft()
            if len(window) > limit.count and over is None:
                over = limit
        if over is None:
            return PaceDecision(True, "ok")
        self._count_429(client)
        client.penalty_until = now + self.penalty_s
        client.stats.penalty_box_total += 1
        self.totals.penalty_box_total += 1
        return PaceDecision(False, "rate_limited", over.scope, self.penalty_s)

    def record_429(self, address: str) -> None:
        """Count a 429 sent for another reason (an injected fault): stats count every 429."""
        self._count_429(self._clients.setdefault(address, _Client()))

    def count_rejection(self, address: str) -> None:
        """Count a 429 decided outside the sliding windows (history's concurrency cap)."""
        self._count_429(self._clients.setdefault(address, _Client()))

    def _count_429(self, client: _Client) -> None:
        client.stats.rate_limited_total += 1
        self.totals.rate_limited_total += 1

    def stats(self) -> dict[str, object]:
        """The ``stats`` object of ``GET /sim/state`` (interfaces.md)."""
        return {
            **self.totals.as_dict(),
            "by_client": {addr: c.stats.as_dict() for addr, c in self._clients.items()},
        }
