"""The journal's operational half: questions, operator state and audit, service events,
reconciliation runs and position baselines (the order/fill half is in store.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, RowMapping, func, insert, select, update

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.service.journal import schema as t
from catalyst_ibkr.service.journal.codec import dump_json, load_json
from catalyst_ibkr.service.journal.records import ReconciliationRun
from catalyst_ibkr.service.journal.rows import EventDraft, write_events
from catalyst_ibkr.service.journal.statements import SELECT_BASELINES, SELECT_OPERATOR_STATE
from catalyst_ibkr.service.views import ServiceEvent

__all__ = ["OperationsJournal"]


class OperationsJournal:
    engine: Engine

    # -- questions ----------------------------------------------------------------------

    def record_question(
        self, order_ref: str, text: str, message_id: str | None, answer: bool | None,
        now: datetime,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.questions).values(
                    order_ref=order_ref, text=text, message_id=message_id, answer=answer,
                    asked_at=now,
                )
            )

    def questions(self, order_refs: Sequence[str]) -> list[RowMapping]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(t.questions)
                    .where(t.questions.c.order_ref.in_(list(order_refs)))
                    .order_by(t.questions.c.id)
                ).mappings()
            )

    # -- operator state -----------------------------------------------------------------

    def kill_pending(self) -> bool:
        """A kill was started and not yet verified (survives a crash mid-kill)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.operator_state.c.kill_pending)).first()
        return bool(row[0]) if row is not None else False

    def set_kill_pending(self, pending: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.operator_state).values(kill_pending=pending))

    def trading_state(self) -> tuple[TradingState, str | None, datetime | None]:
        with self.engine.connect() as conn:
            row = conn.execute(SELECT_OPERATOR_STATE).mappings().first()
        if row is None:
            return TradingState.ACTIVE, None, None
        return TradingState(row["state"]), row["actor"], row["changed_at"]

    def set_trading_state(
        self, state: TradingState, actor: str, now: datetime, reason: str,
        events: Sequence[EventDraft] = (),
    ) -> None:
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(t.operator_state)
                .where(t.operator_state.c.id == 1)
                .values(state=state.value, actor=actor, changed_at=now)
            ).rowcount
            if moved == 0:
                conn.execute(
                    insert(t.operator_state).values(
                        id=1, state=state.value, actor=actor, changed_at=now,
                        kill_pending=False,
                    )
                )
            conn.execute(
                insert(t.operator_audit).values(
                    at=now, actor=actor, action="set_trading_state",
                    detail=dump_json({"state": state.value, "reason": reason}),
                )
            )
            write_events(conn, now, events)

    def audit(self, actor: str, action: str, detail: Mapping[str, object], now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.operator_audit).values(
                    at=now, actor=actor, action=action, detail=dump_json(detail)
                )
            )

    def audit_entries(self) -> list[RowMapping]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(t.operator_audit).order_by(t.operator_audit.c.seq))
                        .mappings())

    # -- service events -----------------------------------------------------------------

    def append_events(self, now: datetime, events: Sequence[EventDraft]) -> None:
        with self.engine.begin() as conn:
            write_events(conn, now, events)

    def events_after(
        self, after: int, limit: int = 500, kinds: Collection[str] | None = None
    ) -> list[ServiceEvent]:
        """`kinds`: only those events' data is decoded; the others come back with empty data
        (a filtered reader still needs every id to notice holes in the sequence)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.service_events)
                .where(t.service_events.c.id > after)
                .order_by(t.service_events.c.id)
                .limit(limit)
            ).mappings()
            return [
                ServiceEvent(int(r["id"]), r["kind"], r["at"],
                             load_json(r["data"]) if kinds is None or r["kind"] in kinds else {})
                for r in rows
            ]

    def last_event_id(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(t.service_events.c.id))).scalar()
        return int(value or 0)

    # -- reconciliation and baselines ---------------------------------------------------

    def record_reconciliation(
        self, started_at: datetime, finished_at: datetime, reason: str, outcome: str,
        detail: Mapping[str, object], events: Sequence[EventDraft] = (),
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(t.reconciliation_runs).values(
                    started_at=started_at, finished_at=finished_at, reason=reason,
                    outcome=outcome, detail=dump_json(detail),
                )
            )
            write_events(conn, finished_at, events)
            key = result.inserted_primary_key
            return int(key[0]) if key is not None else 0

    def reconciliation_runs(self) -> list[ReconciliationRun]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.reconciliation_runs).order_by(t.reconciliation_runs.c.id)
            ).mappings()
            return [
                ReconciliationRun(
                    int(r["id"]), r["started_at"], r["finished_at"], r["reason"], r["outcome"],
                    r["detail"],
                )
                for r in rows
            ]

    def baselines(self) -> dict[int, tuple[str, Decimal, Decimal]]:
        with self.engine.connect() as conn:
            rows = conn.execute(SELECT_BASELINES).mappings()
            return {int(r["conid"]): (r["symbol"], r["quantity"], r["avg_cost"]) for r in rows}

    def set_baselines(
        self, baselines: Mapping[int, tuple[str, Decimal, Decimal]], now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            for conid, (symbol, quantity, avg_cost) in baselines.items():
                conn.execute(
                    insert(t.position_baselines).values(
                        conid=conid, symbol=symbol, quantity=quantity, avg_cost=avg_cost,
                        recorded_at=now,
                    )
                )
