"""The pacing governor: no request leaves before IBKR's limits allow it (cpapi.md §7).

Why it exists: a single 429 puts the client's IP in IBKR's penalty box for 10-15 minutes,
during which it cannot even reconcile an order. So limits are enforced *before sending*,
with a margin, and the send log is shared by every process on the machine (pacing_store).

How it decides, per request:
- Every request counts against the ``global`` scope (10 req/s) and, if the path matches a
  rule, against that endpoint's scope (e.g. 1 req / 5 s for ``/iserver/account/orders``).
- A scope allowing N requests per W seconds admits at most N sends in any window of
  ``W / margin / time_scale + guard_s`` seconds (margin 0.95 keeps us at <= 95 % of each
  limit; the 50 ms guard absorbs network jitter and clock differences; it is real time and
  so not divided by ``time_scale``).
- A send is recorded at grant time, inside the store's lock, so two processes can never
  both take the last slot. IBKR counts a request when it *arrives*, which can be well after
  the grant (a TLS handshake on a busy machine, a slow network), so a send made through
  ``slot()`` counts as arriving "now" while it is in flight and at the moment its answer
  came once finished: the latest it can have arrived. The next send in a full window is
  therefore spaced from that, whatever the delay was (an in-flight send abandoned by a
  crashed process stops counting as "now" after ``inflight_ttl_s``).
- With no stored state at all (first run, deleted file) each *slow* scope (an IBKR window
  longer than the global one second: 1 per 5 s, 1 per minute, 1 per 15 min) is assumed full
  at the moment the state is created: nobody knows whether another client on this IP used
  it a few seconds ago, so the first request to it waits one window (issue 5). The global
  10/s scope and the 1/s endpoints do not wait: their window is about one second, and a
  new log means nothing of ours was sent in it (a previous process would have left its
  sends in the log); making every cold start wait a second cost the quote sweep a third of
  its time for no protection.
- Waiters in one process are served by priority (cancel > order > account > market data);
  a waiter blocked only by its own endpoint scope does not hold up the others.
- After a 429 the offending scope (the endpoint's scope, else ``global``) is paused for
  ``penalty_s / time_scale`` seconds; requests to it fail fast with ``PenaltyBoxActive``.
- ``/iserver/marketdata/history`` is limited by concurrency (5 at once); ``slot()`` holds
  an in-process semaphore of ``floor(5 * margin)`` for it. Concurrency is not shared across
  processes (documented limitation).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

from .errors import LocalSetupError, PenaltyBoxActive, RateLimited
from .pacing_store import PacingState, PacingStore, SendRecord

__all__ = [
    "DEFAULT_RULES",
    "GLOBAL_LIMIT",
    "GLOBAL_SCOPE",
    "Clock",
    "Limit",
    "PacingGovernor",
    "Priority",
    "ScopeRule",
    "SystemClock",
]

log = logging.getLogger(__name__)

GLOBAL_SCOPE = "global"


class Priority(IntEnum):
    """Lower value is served first when several requests wait for the global window."""

    CANCEL = 0
    ORDER = 1  # place, modify, reply, question suppression
    ACCOUNT = 2  # session, accounts, positions, orders list, ledger
    MARKET_DATA = 3  # snapshots, history, contract lookups


@dataclass(frozen=True)
class Limit:
    """``count`` requests per ``per_s`` IBKR seconds."""

    count: int
    per_s: float


@dataclass(frozen=True)
class ScopeRule:
    """A path pattern IBKR meters separately (rate ``limit`` and/or ``concurrency``)."""

    name: str
    method: str | None  # None: any method
    pattern: str  # re.fullmatch against the path below /v1/api
    limit: Limit | None = None
    concurrency: int | None = None
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self._compiled.fullmatch(path) is not None


GLOBAL_LIMIT = Limit(10, 1.0)

#: cpapi.md §7 (WAPI's ``/iserver/orders`` and ``/iserver/trades`` aliases share the scope).
#: Paths are relative to /v1/api (``/v1/portal/...`` aliases are normalised).
DEFAULT_RULES: tuple[ScopeRule, ...] = (
    ScopeRule("marketdata/snapshot", "GET", r"/iserver/marketdata/snapshot", Limit(10, 1.0)),
    ScopeRule("marketdata/history", "GET", r"/iserver/marketdata/history", concurrency=5),
    ScopeRule("account/orders", "GET", r"/iserver/(account/)?orders", Limit(1, 5.0)),
    ScopeRule("account/trades", "GET", r"/iserver/(account/)?trades", Limit(1, 5.0)),
    ScopeRule("pnl/partitioned", "GET", r"/iserver/account/pnl/partitioned", Limit(1, 5.0)),
    ScopeRule("scanner/params", "GET", r"/iserver/scanner/params", Limit(1, 900.0)),
    ScopeRule("scanner/run", "POST", r"/iserver/scanner/run", Limit(1, 1.0)),
    ScopeRule("portfolio/accounts", "GET", r"/portfolio/accounts", Limit(1, 5.0)),
    ScopeRule("portfolio/subaccounts", "GET", r"/portfolio/subaccounts", Limit(1, 5.0)),
    ScopeRule("pa", "POST", r"/pa/(performance|summary|transactions)", Limit(1, 900.0)),
    ScopeRule("fyi", None, r"/fyi/.*", Limit(1, 1.0)),
    ScopeRule("tickle", None, r"/tickle", Limit(1, 1.0)),
    ScopeRule("sso/validate", "GET", r"/sso/validate", Limit(1, 60.0)),
)


class Clock(Protocol):
    """Wall-clock seconds (shared meaning across processes) and an awaitable sleep."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(eq=False)
class _Waiter:
    priority: int
    seq: int
    scope: str | None
    ready_at: float = math.inf  # when its endpoint scope frees (set on first check)

    def key(self) -> tuple[int, int]:
        return (self.priority, self.seq)


def normalise_path(path: str) -> str:
    """Strip the query and the ``/v1/api`` or ``/v1/portal`` prefix."""
    path = path.split("?", 1)[0]
    for prefix in ("/v1/api", "/v1/portal"):
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
    return path


class PacingGovernor:
    """One per gateway: ``await acquire(method, path, priority)`` before each request."""

    def __init__(
        self,
        store: PacingStore,
        *,
        time_scale: float = 1.0,
        margin: float = 0.95,
        guard_s: float = 0.05,
        penalty_s: float = 900.0,
        rules: tuple[ScopeRule, ...] = DEFAULT_RULES,
        global_limit: Limit = GLOBAL_LIMIT,
        clock: Clock | None = None,
        tick_s: float = 0.002,
        inflight_poll_s: float = 0.01,
        inflight_ttl_s: float = 120.0,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale!r}")
        if not 0 < margin <= 1:
            raise ValueError(f"margin must be in (0, 1], got {margin!r}")
        if guard_s < 0 or penalty_s < 0:
            raise ValueError("guard_s and penalty_s must be >= 0")
        self._store = store
        self._time_scale = time_scale
        self._margin = margin
        self._guard_s = guard_s
        self._penalty_s = penalty_s
        self._rules = rules
        self._global = global_limit
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._tick_s = tick_s
        self._inflight_poll_s = inflight_poll_s
        self._inflight_ttl_s = inflight_ttl_s
        self._on_wait = on_wait
        self._seq = itertools.count()
        self._waiters: list[_Waiter] = []
        self._limits: dict[str, Limit] = {GLOBAL_SCOPE: global_limit}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        for rule in rules:
            if rule.limit is not None:
                self._limits[rule.name] = rule.limit
        self._max_window = max(self.window_s(name) for name in self._limits)

    # -- public ---------------------------------------------------------------------------

    def rule_for(self, method: str, path: str) -> ScopeRule | None:
        """The first rule matching this request, if any."""
        norm = normalise_path(path)
        for rule in self._rules:
            if rule.matches(method, norm):
                return rule
        return None

    def window_s(self, scope: str) -> float:
        """The effective window (seconds of our clock) in which ``count`` sends fit."""
        limit = self._limits[scope]
        return limit.per_s / self._margin / self._time_scale + self._guard_s

    @property
    def penalty_period_s(self) -> float:
        return self._penalty_s / self._time_scale

    async def acquire(self, method: str, path: str, priority: Priority) -> None:
        """Wait until the request may be sent, and record it as sent *and finished* now.

        For callers that cannot report when the answer came; ``slot()`` is the accurate
        form. Raises ``PenaltyBoxActive`` at once if its scope is paused after a 429.
        """
        await self._acquire(method, path, priority, in_flight=False)

    @asynccontextmanager
    async def slot(self, method: str, path: str, priority: Priority) -> AsyncIterator[None]:
        """Hold a send for the duration of one request (wrap the HTTP call in it).

        The send counts as in flight until the block exits, then as arriving at that
        moment; the concurrency cap of the matching rule (history) is held as well.
        """
        rule = self.rule_for(method, path)
        sem: asyncio.Semaphore | None = None
        if rule is not None and rule.concurrency is not None:
            sem = self._semaphores.get(rule.name)
            if sem is None:
                sem = asyncio.Semaphore(max(1, math.floor(rule.concurrency * self._margin)))
                self._semaphores[rule.name] = sem
        async with contextlib.AsyncExitStack() as stack:
            if sem is not None:
                await stack.enter_async_context(sem)
            ident = await self._acquire(method, path, priority, in_flight=True)
            try:
                yield
            finally:
                self._finish(ident)

    async def _acquire(self, method: str, path: str, priority: Priority, *, in_flight: bool) -> str:
        rule = self.rule_for(method, path)
        scope = rule.name if rule is not None and rule.limit is not None else None
        waiter = _Waiter(int(priority), next(self._seq), scope)
        ident = secrets.token_hex(8)
        self._waiters.append(waiter)
        try:
            while True:
                wait = self._store.transact(lambda st: self._try_take(st, waiter, ident, in_flight))
                if wait <= 0:
                    return ident
                if self._on_wait is not None:
                    self._on_wait(scope or GLOBAL_SCOPE, wait)
                await self._clock.sleep(wait)
        finally:
            self._waiters.remove(waiter)

    def _finish(self, ident: str) -> None:
        """Mark a send finished now (its answer, or its failure, has come)."""
        now = self._clock.time()

        def update(state: PacingState) -> None:
            for records in state.sends.values():
                for record in records:
                    if record.ident == ident and record.end is None:
                        record.end = max(now, record.start)

        try:
            self._store.transact(update)
        except LocalSetupError as exc:  # the send then counts as in flight until its TTL
            log.warning("could not record the end of a request: %s", exc.message)

    def penalize(self, method: str, path: str) -> RateLimited:
        """Record a 429: pause the scope for the penalty period; return the error to raise."""
        rule = self.rule_for(method, path)
        scope = rule.name if rule is not None and rule.limit is not None else GLOBAL_SCOPE
        now = self._clock.time()
        until = now + self.penalty_period_s

        def update(state: PacingState) -> None:
            state.penalty[scope] = max(until, state.penalty.get(scope, 0.0))

        self._store.transact(update)
        log.warning(
            "IBKR answered 429 for %s %s; pausing scope %r for %.1f s",
            method,
            normalise_path(path),
            scope,
            self.penalty_period_s,
        )
        return RateLimited(
            f"IBKR rate-limited {method} {normalise_path(path)} (429); scope {scope!r} is "
            f"paused for {self.penalty_period_s:.0f} s",
            scope=scope,
            until=until,
        )

    def paused_until(self, scope: str) -> float | None:
        """When a paused scope may be used again (epoch seconds), or None."""
        now = self._clock.time()
        until = self._store.transact(lambda st: st.penalty.get(scope))
        return until if until is not None and until > now else None

    # -- internals ------------------------------------------------------------------------

    def _try_take(self, state: PacingState, waiter: _Waiter, ident: str, in_flight: bool) -> float:
        """0 = granted (recorded); > 0 = seconds to wait before asking again."""
        now = self._clock.time()
        if state.origin is None:
            state.origin = now
        self._prune(state, now)
        for scope in (GLOBAL_SCOPE, waiter.scope):
            if scope is None:
                continue
            until = state.penalty.get(scope)
            if until is not None and until > now:
                raise PenaltyBoxActive(
                    f"scope {scope!r} is paused after an IBKR 429 for another {until - now:.1f} s",
                    scope=scope,
                    until=until,
                )
        endpoint_wait = self._scope_wait(state, waiter.scope, now) if waiter.scope else 0.0
        waiter.ready_at = now + endpoint_wait
        if endpoint_wait > 0:
            return endpoint_wait
        global_wait = self._scope_wait(state, GLOBAL_SCOPE, now)
        ahead = any(
            other is not waiter and other.key() < waiter.key() and other.ready_at <= now
            for other in self._waiters
        )
        if ahead:
            return max(global_wait, self._tick_s)
        if global_wait > 0:
            return global_wait
        end = None if in_flight else now
        state.sends.setdefault(GLOBAL_SCOPE, []).append(SendRecord(now, end, ident))
        if waiter.scope is not None:
            state.sends.setdefault(waiter.scope, []).append(SendRecord(now, end, ident))
        return 0.0

    def _arrival(self, record: SendRecord, now: float) -> tuple[float, bool]:
        """The latest moment this send can have reached IBKR, and whether it is in flight."""
        if record.end is not None:
            return record.end, False
        if now - record.start >= self._inflight_ttl_s:
            return record.start + self._inflight_ttl_s, False  # abandoned (crashed process)
        return now, True

    def _scope_wait(self, state: PacingState, scope: str, now: float) -> float:
        limit = self._limits[scope]
        window = self.window_s(scope)
        arrivals = (self._arrival(r, now) for r in state.sends.get(scope, ()))
        recent = sorted(a for a in arrivals if a[0] > now - window)
        if (
            not recent
            and state.origin is not None
            and now - state.origin < window
            and limit.per_s > self._global.per_s
        ):
            # No history since the state was created: assume the window was full then.
            return state.origin + window - now
        if len(recent) < limit.count:
            return 0.0
        arrival, in_flight = recent[len(recent) - limit.count]
        if in_flight:
            # its arrival time is still open: look again shortly after it finishes
            return min(window, self._inflight_poll_s)
        return arrival + window - now

    def _prune(self, state: PacingState, now: float) -> None:
        for scope in list(state.sends):
            window = self.window_s(scope) if scope in self._limits else self._max_window
            kept = [r for r in state.sends[scope] if self._arrival(r, now)[0] > now - window]
            if kept:
                state.sends[scope] = kept
            else:
                del state.sends[scope]
        for scope, until in list(state.penalty.items()):
            if until <= now:
                del state.penalty[scope]
