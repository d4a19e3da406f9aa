"""The group commit's write: many signals in one transaction, hence one fsync.

Why ON CONFLICT DO NOTHING instead of catching the unique violation: one duplicate must not
roll back the other signals sharing the commit. A duplicate (of a stored signal, or of an
earlier one in the same batch) comes back as (stored record, False), exactly as
`Journal.insert_signal` answers it. Either every signal of a batch is durable when
`insert_signals` returns, or it raises and none is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.service.journal import schema as t
from catalyst_ibkr.service.journal.codec import dump_json, signal_to_json
from catalyst_ibkr.service.journal.records import SignalRecord
from catalyst_ibkr.service.journal.rows import EventDraft, signal_record, write_events

__all__ = ["SignalInsert", "insert_signals"]


@dataclass(frozen=True, slots=True)
class SignalInsert:
    """One signal waiting for the group commit."""

    signal: Signal
    fingerprint: str
    now: datetime
    events: Sequence[EventDraft] = ()


def insert_signals(
    engine: Engine, batch: Sequence[SignalInsert]
) -> list[tuple[SignalRecord, bool]]:
    """Journal `batch` in ONE transaction; per item (stored record, created?), in order.

    Fast path: look the ids up once, then one multi-row INSERT for the new signals and one
    for their events (the writer thread holds the GIL for every statement it builds, which
    the event loop feels). If another process inserts one of the ids between the look-up and
    the insert, the unique key refuses the whole transaction (rolled back, nothing written)
    and the batch is written again row by row with ON CONFLICT DO NOTHING.
    """
    if not batch:
        return []
    try:
        return _insert_many(engine, batch)
    except IntegrityError:
        return _insert_each(engine, batch)


def _insert_many(
    engine: Engine, batch: Sequence[SignalInsert]
) -> list[tuple[SignalRecord, bool]]:
    ids = sorted({str(item.signal.id) for item in batch})
    with engine.begin() as conn:
        taken = set(conn.execute(select(t.signals.c.id).where(t.signals.c.id.in_(ids))).scalars())
        created: list[bool] = []
        rows: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for item in batch:
            signal = item.signal
            sid = str(signal.id)
            fresh = sid not in taken
            created.append(fresh)
            if not fresh:
                continue
            taken.add(sid)  # a later duplicate in this batch gets the stored row
            rows.append(dict(id=sid, fingerprint=item.fingerprint, body=signal_to_json(signal),
                             received_at=signal.received_at, expires_at=signal.expires_at,
                             status="RECEIVED", updated_at=item.now))
            events.extend(dict(at=item.now, kind=e.kind, data=dump_json(e.data))
                          for e in item.events)
        if rows:
            conn.execute(insert(t.signals), rows)
        if events:
            conn.execute(insert(t.service_events), events)
        # Only duplicates are read back: a fresh row holds exactly what this batch wrote,
        # and decoding every stored body again was a third of the batch's cost.
        again = sorted({str(item.signal.id) for item, fresh in zip(batch, created, strict=True)
                        if not fresh})
        stored: dict[str, SignalRecord] = {}
        if again:
            found = conn.execute(select(t.signals).where(t.signals.c.id.in_(again))).mappings()
            stored = {r["id"]: signal_record(r) for r in found}
    for item, fresh in zip(batch, created, strict=True):
        if fresh:
            stored[str(item.signal.id)] = _fresh_record(item)
    return [(stored[str(item.signal.id)], fresh) for item, fresh in zip(batch, created,
                                                                        strict=True)]


def _fresh_record(item: SignalInsert) -> SignalRecord:
    """The record a read of a just-inserted row returns (status RECEIVED, nothing decided)."""
    return SignalRecord(signal=item.signal, fingerprint=item.fingerprint, status="RECEIVED",
                        risk_decision=None, reason_code=None, reason=None, updated_at=item.now)


def _insert_each(
    engine: Engine, batch: Sequence[SignalInsert]
) -> list[tuple[SignalRecord, bool]]:
    results: list[tuple[str, bool]] = []
    with engine.begin() as conn:
        for item in batch:
            signal = item.signal
            statement = _insert_or_ignore(conn.dialect.name).values(
                id=str(signal.id),
                fingerprint=item.fingerprint,
                body=signal_to_json(signal),
                received_at=signal.received_at,
                expires_at=signal.expires_at,
                status="RECEIVED",
                updated_at=item.now,
            )
            created = conn.execute(statement).rowcount == 1
            if created:
                write_events(conn, item.now, item.events)
            results.append((str(signal.id), created))
        ids = sorted({sid for sid, _ in results})
        rows = conn.execute(select(t.signals).where(t.signals.c.id.in_(ids))).mappings()
        stored = {r["id"]: signal_record(r) for r in rows}
    return [(stored[sid], created) for sid, created in results]


def _insert_or_ignore(dialect: str) -> Any:
    """INSERT INTO signals ... ON CONFLICT (id) DO NOTHING for the journal's two dialects."""
    if dialect == "postgresql":
        return pg_insert(t.signals).on_conflict_do_nothing(index_elements=["id"])
    return sqlite_insert(t.signals).on_conflict_do_nothing(index_elements=["id"])
