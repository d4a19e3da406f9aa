"""The service event stream: journaled, numbered events, resumable by id.

Why read from the journal instead of an in-memory queue: an SSE client that reconnects with
Last-Event-ID must get exactly what it missed, also after a restart or from another process;
the journal has it, a queue would not. A local notifier wakes readers at once; a short poll
catches events written by other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection

from catalyst_ibkr.service.journal import Journal
from catalyst_ibkr.service.views import ServiceEvent

__all__ = ["EventNotifier", "stream_events"]


class EventNotifier:
    """Wakes every waiting reader when this process journals an event."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), seconds)


async def stream_events(
    journal: Journal, notifier: EventNotifier, last_event_id: int | None,
    *, poll_s: float = 1.0, gap_grace_s: float = 2.0,
    kinds: Collection[str] | None = None, coalesce_s: float = 0.0,
) -> AsyncIterator[ServiceEvent]:
    """Events after `last_event_id` (None: from now on), forever; close to stop.

    A missing id can be an event another process has allocated but not committed yet
    (PostgreSQL hands out ids before commit). Delivering past it would skip that event for
    good, so the stream waits up to `gap_grace_s` for the hole to fill; a hole still there
    after that is a rolled-back id and is passed.

    `kinds` yields only those kinds (the others are read for their ids, not decoded) and
    `coalesce_s` reads at most that often: a background reader that wants only alerts must
    not cost a journal query on every signal under load.
    """
    loop = asyncio.get_running_loop()
    cursor = journal.last_event_id() if last_event_id is None else last_event_id
    gap_since: float | None = None
    while True:
        delivered = False
        for event in journal.events_after(cursor, kinds=kinds):
            if event.id != cursor + 1:
                gap_since = loop.time() if gap_since is None else gap_since
                if loop.time() - gap_since < gap_grace_s:
                    break
            gap_since = None
            cursor = event.id
            delivered = True
            if kinds is None or event.kind in kinds:
                yield event
        if not delivered:
            await notifier.wait(poll_s if gap_since is None else min(poll_s, gap_grace_s / 4))
            if coalesce_s:
                await asyncio.sleep(coalesce_s)
