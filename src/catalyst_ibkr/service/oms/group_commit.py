"""Group commit for signal intake: one writer, one transaction and one fsync per batch.

Why: a signal must be durable (fsynced) before the API answers 202, and an fsync costs
0.2-5 ms on these disks. One commit per signal caps intake at 1/fsync and, run inside the
event loop, stalls every other request while the disk syncs. Here each `submit` queues its
signal and waits; a single writer task takes everything queued, writes it in ONE transaction
on a dedicated thread (the event loop keeps serving), and only after the commit returns
answers each waiter. While one commit is on the disk the next batch fills up, so the batch
size adapts to the load with no timer and no added latency when idle.

Guarantees kept: a waiter is answered only after its signal's commit (never before); a
failed commit fails every waiter of that batch (none of them was acknowledged, nothing of
the batch is in the journal) and the writer carries on with the next batch; a crash
mid-batch loses only signals whose callers were never answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from catalyst_ibkr.service.journal.intake import SignalInsert
from catalyst_ibkr.service.journal.records import SignalRecord

__all__ = ["BatchWriter", "SignalGroupCommit"]

log = logging.getLogger("catalyst_ibkr.oms")

#: write a batch in one transaction; per item (stored record, created?)
BatchWriter = Callable[[Sequence[SignalInsert]], list[tuple[SignalRecord, bool]]]

_MAX_BATCH = 512


@dataclass(slots=True)
class _Waiter:
    item: SignalInsert
    answer: asyncio.Future[tuple[SignalRecord, bool]]


class SignalGroupCommit:
    """The single intake writer. `start()` in the running loop, `stop()` when done."""

    def __init__(self, write_batch: BatchWriter, *, max_batch: int = _MAX_BATCH) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Waiter] | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-intake")
        self.batches = 0  #: commits made (for tests and metrics)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="journal-group-commit")

    async def stop(self) -> None:
        """Stop taking batches. A commit already on the thread finishes (its waiters are
        answered if they still listen); queued, uncommitted signals fail their waiters."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self._queue is not None:
            while not self._queue.empty():
                waiter = self._queue.get_nowait()
                if not waiter.answer.done():
                    waiter.answer.set_exception(RuntimeError("journal writer stopped"))
        # wait for a commit still on the thread without blocking the event loop
        await asyncio.to_thread(self._thread.shutdown, True)

    async def submit(self, item: SignalInsert) -> tuple[SignalRecord, bool]:
        """Queue `item`; returns once it is committed (durable), or raises the commit's error."""
        if self._task is None or self._queue is None:
            raise RuntimeError("journal writer is not running")
        answer: asyncio.Future[tuple[SignalRecord, bool]] = (
            asyncio.get_running_loop().create_future())
        self._queue.put_nowait(_Waiter(item, answer))
        # shield: a caller that gives up (client disconnect) must not cancel the batch's
        # shared commit; the signal is then journaled without an answer, like a lost reply
        return await asyncio.shield(answer)

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            items = [w.item for w in batch]
            try:
                results = await loop.run_in_executor(self._thread, self._write_batch, items)
            except asyncio.CancelledError:
                _fail(batch, RuntimeError("journal writer stopped before answering"))
                raise
            except Exception as exc:  # the whole transaction rolled back: fail all of it
                log.exception("journal group commit of %d signals failed", len(batch))
                _fail(batch, exc)
                continue
            self.batches += 1
            for waiter, result in zip(batch, results, strict=True):
                if not waiter.answer.done():
                    waiter.answer.set_result(result)


def _fail(batch: Sequence[_Waiter], exc: BaseException) -> None:
    for waiter in batch:
        if not waiter.answer.done():
            waiter.answer.set_exception(exc)
