"""Hold every other gateway request back while an order question is being answered.

Why: the Client Portal gateway discards a pending order question when ANY other request
reaches it first (cpapi.md §6.2; a later reply gets 503 and the order's fate is unknown).
In one process the session keeper's tickle, the stream's order refresh or a concurrent quote
could all do that. So the gate is a readers-writer lock around each request on the wire:

- every ordinary request holds a shared ``request()`` for as long as it is on the wire;
- a place/modify dialogue takes ``exclusive()``: it waits until no request is in flight
  (one sent just before could otherwise arrive after the question is asked), keeps new ones
  out, and only its own task's requests (the POST and the replies) pass while it runs.

One dialogue at a time per gateway also gives the per-account serialisation IBKR asks for
("wait for full acknowledgement before placing the next order"). Requests of OTHER
processes are not covered (a documented limit).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["DialogueGate"]


class DialogueGate:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._cond = asyncio.Condition()
        self._owner: asyncio.Task[Any] | None = None
        self._active = 0
        self._writers_waiting = 0

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._lock:
            async with self._cond:
                self._writers_waiting += 1
                try:
                    await self._cond.wait_for(lambda: self._active == 0)
                finally:
                    self._writers_waiting -= 1
                self._owner = asyncio.current_task()
            try:
                yield
            finally:
                async with self._cond:
                    self._owner = None
                    self._cond.notify_all()

    @asynccontextmanager
    async def request(self, _call: object = None) -> AsyncIterator[None]:
        """Held around one request on the wire; the running dialogue's own pass at once."""
        task = asyncio.current_task()
        if self._owner is not None and task is self._owner:
            yield
            return
        async with self._cond:
            await self._cond.wait_for(
                lambda: self._owner is None and self._writers_waiting == 0
            )
            self._active += 1
        try:
            yield
        finally:
            async with self._cond:
                self._active -= 1
                self._cond.notify_all()
