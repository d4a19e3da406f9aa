"""Group commit of signal intake: batched, durable before any answer, failures contained.

The journal is a real SQLite file (WAL, synchronous=FULL); "durable" is checked through a
second, independent engine, as a restarted process would read it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.journal import Journal, connect, migrate
from catalyst_ibkr.service.journal import schema as t
from catalyst_ibkr.service.journal.intake import SignalInsert
from catalyst_ibkr.service.journal.records import SignalRecord
from catalyst_ibkr.service.journal.rows import EventDraft
from catalyst_ibkr.service.oms.group_commit import SignalGroupCommit
from oms_harness import Harness, fingerprint

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def _item(sid: str, quantity: str = "10") -> SignalInsert:
    body = {"id": sid, "symbol": "AAPL", "side": "BUY", "quantity": quantity,
            "order_type": "LMT", "limit_price": "100.00"}
    return SignalInsert(Signal.from_mapping(body, NOW), fingerprint(body), NOW,
                        (EventDraft("signal", {"id": sid, "status": "RECEIVED"}),))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    engine = connect(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture
async def journal(db_url: str) -> AsyncIterator[Journal]:
    engine = connect(db_url)
    yield Journal(engine)
    engine.dispose()


def _stored_ids(db_url: str) -> set[str]:
    """What a fresh process would find in the journal."""
    engine: Engine = connect(db_url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(select(t.signals.c.id))}
    finally:
        engine.dispose()


def _event_count(db_url: str) -> int:
    engine = connect(db_url)
    try:
        with engine.connect() as conn:
            counted = conn.execute(select(func.count()).select_from(t.service_events))
            return int(counted.scalar_one())
    finally:
        engine.dispose()


class _GatedWriter:
    """Writes batches through the real journal, but only once the test opens the gate; an
    abandoned writer (a crash before its commit) writes nothing at all."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.gate = threading.Event()
        self.abandoned = False
        self.batches: list[list[str]] = []

    def __call__(self, batch: Sequence[SignalInsert]) -> list[tuple[SignalRecord, bool]]:
        self.gate.wait(10)
        if self.abandoned:
            raise RuntimeError("process died before the commit")
        self.batches.append([str(i.signal.id) for i in batch])
        return self.journal.insert_signals(batch)


async def test_concurrent_submits_share_commits_and_none_is_answered_before_it_is_durable(
    journal: Journal, db_url: str,
) -> None:
    writer = _GatedWriter(journal)
    intake = SignalGroupCommit(writer)
    intake.start()
    try:
        tasks = [asyncio.create_task(intake.submit(_item(f"g-{i}"))) for i in range(40)]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in tasks)  # nothing answered before the commit
        assert _stored_ids(db_url) == set()
        writer.gate.set()
        results = await asyncio.gather(*tasks)
    finally:
        await intake.stop()
    assert [str(r.signal.id) for r, _ in results] == [f"g-{i}" for i in range(40)]
    assert all(created for _, created in results)
    assert _stored_ids(db_url) == {f"g-{i}" for i in range(40)}
    assert _event_count(db_url) == 40  # each signal's event committed with it
    # all 40 queued while the writer waited for the disk: they shared the commit(s)
    assert 1 <= len(writer.batches) < 40
    assert sorted(sid for b in writer.batches for sid in b) == sorted(f"g-{i}" for i in range(40))


async def test_a_duplicate_inside_one_batch_gets_the_stored_record_and_nothing_else_fails(
    journal: Journal, db_url: str,
) -> None:
    writer = _GatedWriter(journal)
    intake = SignalGroupCommit(writer)
    intake.start()
    try:
        tasks = [asyncio.create_task(intake.submit(item)) for item in
                 (_item("blocker"), _item("d-1"), _item("d-1"), _item("d-1", quantity="11"),
                  _item("d-2"))]
        await asyncio.sleep(0.02)
        writer.gate.set()
        results = await asyncio.gather(*tasks)
    finally:
        await intake.stop()
    assert [created for _, created in results] == [True, True, False, False, True]
    first, again, other = results[1][0], results[2][0], results[3][0]
    assert again.fingerprint == first.fingerprint  # same body: the first answer again
    assert other.fingerprint == first.fingerprint  # other body: caller sees the conflict
    assert other.signal.quantity == first.signal.quantity
    assert any(b.count("d-1") == 3 for b in writer.batches)  # really one shared transaction
    assert _stored_ids(db_url) == {"blocker", "d-1", "d-2"}
    assert _event_count(db_url) == 3  # no event for a duplicate


async def test_a_failed_commit_fails_every_waiter_of_its_batch_and_only_that_batch(
    journal: Journal, db_url: str,
) -> None:
    calls = 0

    def flaky(batch: Sequence[SignalInsert]) -> list[tuple[SignalRecord, bool]]:
        nonlocal calls
        calls += 1
        if calls == 1:  # the disk refused the first commit, after writing part of it
            with journal.engine.begin() as conn:
                conn.execute(t.signals.insert().values(
                    id="never", fingerprint="x", body="{}", received_at=NOW, expires_at=NOW,
                    status="RECEIVED", updated_at=NOW))
                raise OSError("disk I/O error")
        return journal.insert_signals(batch)

    intake = SignalGroupCommit(flaky)
    intake.start()
    try:
        doomed = [asyncio.create_task(intake.submit(_item(f"f-{i}"))) for i in range(5)]
        outcomes = await asyncio.gather(*doomed, return_exceptions=True)
        after = await intake.submit(_item("after"))
    finally:
        await intake.stop()
    assert all(isinstance(o, OSError) for o in outcomes)  # nobody was told "accepted"
    assert after[1] is True
    assert _stored_ids(db_url) == {"after"}  # the failed transaction left nothing behind


async def test_abandoning_the_writer_mid_batch_loses_no_acknowledged_signal(
    journal: Journal, db_url: str,
) -> None:
    writer = _GatedWriter(journal)
    writer.gate.set()
    intake = SignalGroupCommit(writer)
    intake.start()
    acknowledged = await asyncio.gather(*(intake.submit(_item(f"a-{i}")) for i in range(10)))
    assert all(created for _, created in acknowledged)
    writer.gate.clear()
    in_flight = [asyncio.create_task(intake.submit(_item(f"b-{i}"))) for i in range(10)]
    await asyncio.sleep(0.05)
    writer.abandoned = True  # the process dies while this batch waits for its commit
    stopping = asyncio.create_task(intake.stop())
    await asyncio.sleep(0.01)
    writer.gate.set()
    await stopping
    outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
    assert all(isinstance(o, Exception) for o in outcomes)  # none of them was acknowledged
    stored = _stored_ids(db_url)
    assert {f"a-{i}" for i in range(10)} <= stored  # every acknowledged signal survived
    assert not stored & {f"b-{i}" for i in range(10)}


async def test_a_submit_to_a_stopped_writer_is_refused_not_lost(journal: Journal) -> None:
    intake = SignalGroupCommit(journal.insert_signals)
    with pytest.raises(RuntimeError, match="not running"):
        await intake.submit(_item("x"))
    intake.start()
    await intake.stop()
    with pytest.raises(RuntimeError, match="not running"):
        await intake.submit(_item("x"))


async def test_the_service_batches_concurrent_signals_and_answers_duplicates_alike(
    harness: Harness,
) -> None:
    svc = await harness.service()
    before = svc.oms.intake.batches
    views = await asyncio.gather(*(harness.submit(svc, f"c-{i}") for i in range(30)),
                                 *(harness.submit(svc, "same") for _ in range(5)))
    assert {v.status for v in views} == {"RECEIVED"}
    assert len({v.received_at for v in views[30:]}) == 1  # concurrent duplicates: one answer
    assert svc.oms.intake.batches - before < 35  # commits were shared
    await harness.crash(svc)
    again = await harness.service()
    for i in range(30):
        assert await again.get_signal(f"c-{i}") is not None
    for _ in range(20):  # a pass is bounded in time: a slow machine needs a few
        await harness.step(again)
        if (await again.get_signal("same")).status != "RECEIVED":  # type: ignore[union-attr]
            break
    assert harness.broker_orders("same") == 1


def test_an_id_inserted_by_another_process_mid_batch_falls_back_to_row_by_row(
    journal: Journal, db_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path looks ids up, then inserts all rows at once; another process may insert
    one of them in between. The unique key refuses the transaction; the batch is written row
    by row instead, and the raced id is answered with the other process's row."""
    from catalyst_ibkr.service.journal import intake as intake_module

    other = Journal(connect(db_url))
    original = intake_module.signal_to_json
    raced = False

    def racing_encoder(signal: Signal) -> str:
        nonlocal raced
        if not raced:
            raced = True  # after the look-up, before our insert: the other process commits
            other.insert_signals([_item("r-2", quantity="99")])
        return original(signal)

    monkeypatch.setattr(intake_module, "signal_to_json", racing_encoder)
    results = journal.insert_signals([_item("r-1"), _item("r-2"), _item("r-3")])
    other.engine.dispose()
    assert [created for _, created in results] == [True, False, True]
    assert results[1][0].signal.quantity == 99  # the row the other process wrote
    assert _stored_ids(db_url) == {"r-1", "r-2", "r-3"}
    assert _event_count(db_url) == 3  # r-1, r-3 and the other process's r-2: no double


def test_a_fresh_record_is_what_reading_the_row_back_gives(journal: Journal) -> None:
    """The batch answers fresh signals without reading their rows back: the record it builds
    must equal what the journal returns for that id later (and for a duplicate, now)."""
    items = [_item("r-1"), _item("r-2", quantity="3"), _item("r-1")]
    answers = journal.insert_signals(items)
    assert [created for _, created in answers] == [True, True, False]
    for record, _ in answers:
        assert record == journal.get_signal(str(record.signal.id))
