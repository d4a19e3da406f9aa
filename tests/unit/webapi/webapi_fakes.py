"""A manual clock for the Web API adapter's unit tests: time moves only when tasks sleep.

``FakeClock.run(...)`` drives coroutines to completion, jumping time straight to the next
sleeper's deadline whenever every task is blocked, so windows of seconds or minutes are
"waited" instantly and deterministically.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import Any


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), fut))
        await fut

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def _settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def run(self, *aws: Awaitable[Any], max_steps: int = 100_000) -> list[Any]:
        tasks = [asyncio.ensure_future(a) for a in aws]
        try:
            for _ in range(max_steps):
                await self._settle()
                if all(t.done() for t in tasks):
                    return [t.result() for t in tasks]
                while self._sleepers and self._sleepers[0][2].cancelled():
                    heapq.heappop(self._sleepers)
                if not self._sleepers:
                    continue
                deadline = self._sleepers[0][0]
                self.now = max(self.now, deadline)
                while self._sleepers and self._sleepers[0][0] <= self.now:
                    _, _, fut = heapq.heappop(self._sleepers)
                    if not fut.done():
                        fut.set_result(None)
            raise AssertionError("FakeClock.run: tasks did not finish")
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
