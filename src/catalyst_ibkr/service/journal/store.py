"""`Journal`: the only code that reads or writes the journal tables.

Why every order write is a compare-and-swap on `version`: the service will run as several
processes on one PostgreSQL journal. Moving an intent from "journaled" to "sent" (and
taking the lease that allows a resend) is an UPDATE ... WHERE version = :seen, so exactly
one process wins; the loser sees `StaleWrite`, reloads and finds the work already done.
Each method is one transaction; events that describe a change commit with the change, so
the SSE stream never shows something the journal does not hold (or the reverse).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, insert, select, update
from sqlalchemy.exc import IntegrityError

from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.orders import Order, OrderStatus
from catalyst_ibkr.core.signals import Signal
from catalyst_ibkr.ports.broker import ExecutionReport
from catalyst_ibkr.service.journal import schema as t
from catalyst_ibkr.service.journal.codec import signal_to_json
from catalyst_ibkr.service.journal.intake import SignalInsert, insert_signals
from catalyst_ibkr.service.journal.operations import OperationsJournal
from catalyst_ibkr.service.journal.records import OrderRecord, SignalRecord
from catalyst_ibkr.service.journal.rows import (
    KEEP,
    EventDraft,
    Keep,
    execution_values,
    fill_from_row,
    fills_by_order,
    order_record,
    order_values,
    signal_record,
    write_events,
    write_history,
)
from catalyst_ibkr.service.journal.statements import (
    FILLS_MARKER,
    INSERT_ORDER,
    ORDER_BY_BROKER_ID,
    ORDER_BY_REF,
    ORDERS_BY_REFS,
    SIGNAL_BY_ID,
    SIGNAL_STATUS,
    UPDATE_ORDER_AT_VERSION,
    UPDATE_SIGNAL_FROM,
    UPDATE_SIGNAL_UNLESS,
    order_selection,
)

__all__ = ["EventDraft", "Journal", "SignalInsert", "StaleWrite"]


class StaleWrite(Exception):
    """Someone else changed the row since it was read; reload and decide again."""


class Journal(OperationsJournal):
    """Signals, order intents and fills (this file) plus the operational tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: order_ref -> (version, decoded record) for `read_orders` (read-only callers)
        self._read_cache: dict[str, tuple[int, OrderRecord]] = {}

    # -- signals ------------------------------------------------------------------------

    def insert_signal(
        self, signal: Signal, fingerprint: str, now: datetime, events: Sequence[EventDraft] = ()
    ) -> tuple[SignalRecord, bool]:
        """Journal a new signal; (existing record, False) if the id is already taken."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.signals).values(
                        id=str(signal.id),
                        fingerprint=fingerprint,
                        body=signal_to_json(signal),
                        received_at=signal.received_at,
                        expires_at=signal.expires_at,
                        status="RECEIVED",
                        updated_at=now,
                    )
                )
                write_events(conn, now, events)
        except IntegrityError:
            existing = self.get_signal(str(signal.id))
            if existing is None:  # pragma: no cover - a unique violation means it exists
                raise
            return existing, False
        record = self.get_signal(str(signal.id))
        assert record is not None
        return record, True

    def insert_signals(self, batch: Sequence[SignalInsert]) -> list[tuple[SignalRecord, bool]]:
        """Many signals in one transaction (one fsync); see `journal.intake`."""
        return insert_signals(self.engine, batch)

    def get_signal(self, signal_id: str) -> SignalRecord | None:
        with self.engine.connect() as conn:
            found = conn.execute(SIGNAL_BY_ID, {"w_id": signal_id}).mappings().first()
        return None if found is None else signal_record(found)

    def signal_status(self, signal_id: str) -> str | None:
        """Only the status (None: no such signal). For the OMS's re-checks, which used to
        read and validate the whole signal again just to look at this one column."""
        with self.engine.connect() as conn:
            found = conn.execute(SIGNAL_STATUS, {"w_id": signal_id}).first()
        return None if found is None else str(found[0])

    def signals_with_status(self, *statuses: str, limit: int | None = None) -> list[SignalRecord]:
        """Oldest first; ``limit``: only that many (a backlog is worked in bounded passes)."""
        query = (select(t.signals).where(t.signals.c.status.in_(statuses))
                 .order_by(t.signals.c.received_at, t.signals.c.id))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [signal_record(r) for r in conn.execute(query).mappings()]

    def signals_due_to_expire(self, now: datetime, limit: int | None = None) -> list[SignalRecord]:
        """RECEIVED signals whose TTL has run out at ``now``, oldest first (at most ``limit``).

        Why in SQL: the expiry sweep runs on every pass of the OMS, and decoding every
        waiting signal to look at its TTL made each pass cost more as a backlog grew. The
        stored times are fixed-width UTC text, so comparing the text compares the times.
        """
        query = (select(t.signals)
                 .where(t.signals.c.status == "RECEIVED", t.signals.c.expires_at <= now)
                 .order_by(t.signals.c.received_at, t.signals.c.id))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [signal_record(r) for r in conn.execute(query).mappings()]

    def settle_signal(
        self,
        signal_id: str,
        *,
        expect: str,
        status: str,
        now: datetime,
        risk_decision: str | None = None,
        reason_code: str | None = None,
        reason: str | None = None,
        new_orders: Sequence[Order] = (),
        lease_owner: str | None = None,
        lease_until: datetime | None = None,
        send_attempts: int = 0,
        events: Sequence[EventDraft] = (),
    ) -> bool:
        """Move a signal from `expect` to `status` (CAS) and journal its order intents in the
        same transaction. False: another writer moved it first (nothing written)."""
        try:
            with self.engine.begin() as conn:
                moved = conn.execute(UPDATE_SIGNAL_FROM, {
                    "w_id": signal_id, "w_status": expect, "status": status,
                    "risk_decision": risk_decision, "reason_code": reason_code,
                    "reason": reason, "updated_at": now,
                }).rowcount
                if moved != 1:
                    conn.rollback()
                    return False
                for order in new_orders:
                    conn.execute(
                        INSERT_ORDER, dict(
                            **order_values(order, now),
                            order_ref=str(order.client_order_id),
                            client_order_id=str(order.client_order_id),
                            signal_id=signal_id,
                            parent_ref=None if order.parent_id is None else str(order.parent_id),
                            external=False,
                            send_attempts=send_attempts,
                            version=1,
                            lease_owner=lease_owner,
                            lease_until=lease_until,
                            created_at=now,
                        )
                    )
                    write_history(conn, str(order.client_order_id), order, 0)
                write_events(conn, now, events)
        except IntegrityError:
            return False  # a cOID row exists: another writer journaled this intent
        return True

    def link_adopted(self, signal_id: str, order_ref: str, now: datetime) -> bool:
        """An order adopted from IBKR carries this signal's cOID (a journal lost or restored
        from backup): it IS the signal's order. Link them instead of sending another."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(t.orders)
                .where(t.orders.c.order_ref == order_ref, t.orders.c.signal_id.is_(None))
                .values(signal_id=signal_id, external=False, version=t.orders.c.version + 1,
                        updated_at=now)
            ).rowcount
            if moved != 1:
                conn.rollback()
                return False
            conn.execute(
                update(t.signals)
                .where(t.signals.c.id == signal_id, t.signals.c.status == "RECEIVED")
                .values(status="SUBMITTED", risk_decision="ALLOWED", updated_at=now,
                        reason="found at IBKR under this signal's cOID; adopted, not resent")
            )
        return True

    def set_signal_status(
        self, signal_id: str, status: str, now: datetime, events: Sequence[EventDraft] = ()
    ) -> None:
        """The signal's status mirrors its parent order's once an order exists; `events`
        commit with it (one transaction, one fsync, and no event without its change)."""
        with self.engine.begin() as conn:
            conn.execute(UPDATE_SIGNAL_UNLESS, {"w_id": signal_id, "w_status": status,
                                                "status": status, "updated_at": now})
            write_events(conn, now, events)

    # -- orders -------------------------------------------------------------------------

    def load_order(self, order_ref: str) -> OrderRecord | None:
        with self.engine.connect() as conn:
            found = conn.execute(ORDER_BY_REF, {"w_ref": order_ref}).mappings().first()
            return None if found is None else order_record(conn, found)

    def find_order(self, ref: str) -> OrderRecord | None:
        """By order_ref / cOID, else by the broker's order id."""
        found = self.load_order(ref)
        if found is not None:
            return found
        with self.engine.connect() as conn:
            row = conn.execute(ORDER_BY_BROKER_ID, {"w_id": ref}).mappings().first()
            return None if row is None else order_record(conn, row)

    def orders(
        self, *, statuses: Iterable[str] | None = None, signal_id: str | None = None,
        created_since: datetime | None = None, created_before: datetime | None = None,
    ) -> list[OrderRecord]:
        """Fills of all the selected orders come in one query (not one query per order:
        the risk context reads every open order for each decision)."""
        query, params = _order_query("all", statuses=statuses, signal_id=signal_id,
                                     created_since=created_since, created_before=created_before)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query, params).mappings())
            fills = fills_by_order(conn, [r["order_ref"] for r in rows])
            return [order_record(conn, r, fills.get(r["order_ref"], [])) for r in rows]

    def read_orders(
        self, *, statuses: Iterable[str] | None = None,
        created_since: datetime | None = None, created_before: datetime | None = None,
    ) -> list[OrderRecord]:
        """What `orders` returns, for callers that only READ (the risk context): the records
        are shared between calls and must never be changed or saved.

        Why: every decision reads every order of the last hour and every open one, and
        decoding them all again made each decision cost more as the day went on. Only the
        order refs and versions are read each time; a row is decoded again only when its
        version moved (every change to an order, fills included, bumps it).
        """
        query, params = _order_query("versions", statuses=statuses,
                                     created_since=created_since, created_before=created_before)
        cache = self._read_cache
        with self.engine.connect() as conn:
            wanted = [(ref, version) for ref, version in conn.execute(query, params)]
            stale = [ref for ref, version in wanted
                     if ref not in cache or cache[ref][0] != version]
            for start in range(0, len(stale), 500):  # the drivers' bound-parameter limits
                chunk = stale[start:start + 500]
                rows = list(conn.execute(ORDERS_BY_REFS, {"w_refs": chunk}).mappings())
                fills = fills_by_order(conn, chunk)
                for r in rows:
                    cache[r["order_ref"]] = (
                        r["version"], order_record(conn, r, fills.get(r["order_ref"], [])))
        # Every wanted ref now has an entry at least as new as the version it was listed
        # with (a row that changed between the two reads was decoded at its newer version).
        out = [cache[ref][1] for ref, _ in wanted if ref in cache]
        if len(cache) > _READ_CACHE_MAX:
            keep = {ref for ref, _ in wanted}
            self._read_cache = {ref: v for ref, v in cache.items() if ref in keep}
        return out

    def save_order(
        self,
        record: OrderRecord,
        now: datetime,
        *,
        send_attempts: int | None = None,
        lease_owner: str | type[Keep] | None = KEEP,
        lease_until: datetime | type[Keep] | None = KEEP,
        in_doubt_since: datetime | type[Keep] | None = KEEP,
        events: Sequence[EventDraft] = (),
    ) -> OrderRecord:
        """Write the aggregate back if nobody else did since it was loaded (else StaleWrite).
        Lease and in-doubt columns are kept unless given; `in_doubt_since` is cleared once
        the order is no longer IN_DOUBT."""
        order = record.order
        if order.status is not OrderStatus.IN_DOUBT:
            in_doubt_since = None
        values: dict[str, Any] = order_values(order, now)
        values["version"] = record.version + 1
        if send_attempts is not None:
            values["send_attempts"] = send_attempts
        for name, value in (
            ("lease_owner", lease_owner),
            ("lease_until", lease_until),
            ("in_doubt_since", in_doubt_since),
        ):
            if value is not KEEP:
                values[name] = value
        values["w_ref"], values["w_version"] = record.order_ref, record.version
        with self.engine.begin() as conn:
            moved = conn.execute(UPDATE_ORDER_AT_VERSION, values).rowcount
            if moved != 1:
                raise StaleWrite(record.order_ref)
            write_history(conn, record.order_ref, order, record.loaded_history)
            write_events(conn, now, events)
        record.version += 1
        record.loaded_history = len(order.history)
        if send_attempts is not None:
            record.send_attempts = send_attempts
        # (a value that is a type is the KEEP sentinel: leave the field as it was)
        if not isinstance(lease_owner, type):
            record.lease_owner = lease_owner
        if not isinstance(lease_until, type):
            record.lease_until = lease_until
        if not isinstance(in_doubt_since, type):
            record.in_doubt_since = in_doubt_since
        return record

    def take_lease(self, record: OrderRecord, owner: str, until: datetime, now: datetime) -> bool:
        """Claim the right to act on an in-flight order: free, expired or already ours.
        False when another live process holds it or changed the row since it was read."""
        held_elsewhere = (
            record.lease_owner not in (None, owner)
            and record.lease_until is not None
            and record.lease_until > now
        )
        if held_elsewhere:
            return False
        with self.engine.begin() as conn:
            moved = conn.execute(UPDATE_ORDER_AT_VERSION, {
                "w_ref": record.order_ref, "w_version": record.version, "lease_owner": owner,
                "lease_until": until, "version": record.version + 1}).rowcount
        if moved != 1:
            return False
        record.version += 1
        record.lease_owner = owner
        record.lease_until = until
        return True

    def insert_external_order(
        self, order: Order, order_ref: str, now: datetime, events: Sequence[EventDraft] = ()
    ) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.orders).values(
                        **order_values(order, now),
                        order_ref=order_ref,
                        client_order_id=None,
                        signal_id=None,
                        parent_ref=None,
                        external=True,
                        send_attempts=0,
                        version=1,
                        created_at=now,
                    )
                )
                write_history(conn, order_ref, order, 0)
                write_events(conn, now, events)
        except IntegrityError:
            return False
        return True

    # -- executions ---------------------------------------------------------------------

    def record_execution(
        self,
        execution: ExecutionReport,
        order_ref: str | None,
        now: datetime,
        events: Sequence[EventDraft] = (),
    ) -> bool:
        """Journal a fill once; a replay (same execution id) returns False and writes nothing."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.executions).values(**execution_values(execution, order_ref, now))
                )
                write_events(conn, now, events)
        except IntegrityError:
            return False
        return True

    def record_fill(
        self,
        record: OrderRecord,
        execution: ExecutionReport,
        now: datetime,
        events: Sequence[EventDraft] = (),
    ) -> bool:
        """Journal a fill and the order it moved in ONE transaction, so a crash can never leave
        an execution without its order update (or the reverse). False: a replay (nothing
        written). StaleWrite: the order changed under us (nothing written)."""
        order = record.order
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.executions).values(
                        **execution_values(execution, record.order_ref, now)
                    )
                )
                moved = conn.execute(
                    update(t.orders)
                    .where(
                        t.orders.c.order_ref == record.order_ref,
                        t.orders.c.version == record.version,
                    )
                    .values(**order_values(order, now), version=record.version + 1)
                ).rowcount
                if moved != 1:
                    raise StaleWrite(record.order_ref)
                write_history(conn, record.order_ref, order, record.loaded_history)
                write_events(conn, now, events)
        except IntegrityError:
            return False
        record.version += 1
        record.loaded_history = len(order.history)
        return True

    def has_execution(self, execution_id: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(t.executions.c.execution_id).where(
                    t.executions.c.execution_id == execution_id
                )
            ).first()
        return found is not None

    def fills(self, order_ref: str | None = None) -> list[tuple[str | None, str, Fill]]:
        """(order_ref, symbol, fill) in journal order; all of them when order_ref is None."""
        query = select(t.executions).order_by(t.executions.c.time, t.executions.c.execution_id)
        if order_ref is not None:
            query = query.where(t.executions.c.order_ref == order_ref)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings()
            return [(r["order_ref"], r["symbol"], fill_from_row(r)) for r in rows]

    def fills_marker(self) -> tuple[int, Any]:
        """Changes whenever the fills do: (how many, the latest recorded_at).

        Executions are only ever added (`attach_execution` sets the order they belong to,
        which no position depends on), so a position book built from the fills holds for
        as long as this marker is the same. Anything that someday rewrites an execution
        must also move its recorded_at.
        """
        with self.engine.connect() as conn:
            count, latest = conn.execute(FILLS_MARKER).one()
        return int(count), latest

    def attach_execution(self, execution_id: str, order_ref: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.executions)
                .where(t.executions.c.execution_id == execution_id)
                .values(order_ref=order_ref)
            )


_READ_CACHE_MAX = 20_000  # orders kept decoded for `read_orders`; pruned to the last read


def _order_query(
    columns: str, *, statuses: Iterable[str] | None = None, signal_id: str | None = None,
    created_since: datetime | None = None, created_before: datetime | None = None,
) -> tuple[Select[Any], dict[str, Any]]:
    """The order selection shared by `orders` and `read_orders` (its statement is built once
    per shape, statements.order_selection) and the parameters of this call."""
    query = order_selection(columns, statuses=statuses is not None,
                            signal_id=signal_id is not None,
                            created_since=created_since is not None,
                            created_before=created_before is not None)
    params: dict[str, Any] = {}
    if statuses is not None:
        params["w_statuses"] = list(statuses)
    if signal_id is not None:
        params["w_signal"] = signal_id
    if created_since is not None:
        params["w_since"] = created_since
    if created_before is not None:
        params["w_before"] = created_before
    return query, params
