"""The journal's tables (SQLAlchemy Core). Alembic migrations create them; a test checks
that the migrated database and this metadata agree, so the two cannot drift apart.

Design notes (why, not what):
- `orders.client_order_id` is UNIQUE: one row per cOID is the local half of "at most one
  order per cOID"; IBKR's 24 h cOID uniqueness is the other half.
- `orders.version` makes every order update a compare-and-swap, so two processes sharing a
  PostgreSQL journal cannot both move one intent from "journaled" to "sent".
- `orders.lease_owner/lease_until`: who may resolve an in-flight order right now; a dead
  process's lease runs out and another process takes over.
- `executions.execution_id` is the primary key: a replayed fill is an INSERT that conflicts,
  i.e. a no-op.
- `service_events.id` is the SSE event id (monotonic; resume with Last-Event-ID).
- No column holds a credential.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from catalyst_ibkr.service.journal.types import DecimalText, UtcText

__all__ = [
    "executions",
    "metadata",
    "operator_audit",
    "operator_state",
    "order_events",
    "orders",
    "position_baselines",
    "questions",
    "reconciliation_runs",
    "service_events",
    "signals",
]

metadata = MetaData()

#: An autoincrementing 64-bit key that SQLite also autoincrements (it needs INTEGER).
_SEQ = BigInteger().with_variant(Integer(), "sqlite")

signals = Table(
    "signals",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("fingerprint", String(128), nullable=False),
    Column("body", Text, nullable=False),  # the validated signal as JSON (decimals as str)
    Column("received_at", UtcText, nullable=False),
    Column("expires_at", UtcText, nullable=False),
    Column("status", String(24), nullable=False),
    Column("risk_decision", String(16)),
    Column("reason_code", String(64)),
    Column("reason", Text),
    Column("updated_at", UtcText, nullable=False),
)
Index("ix_signals_status", signals.c.status)
Index("ix_signals_status_expires_at", signals.c.status, signals.c.expires_at)  # expiry sweep

orders = Table(
    "orders",
    metadata,
    Column("order_ref", String(80), primary_key=True),  # cOID, or "ext-<broker id>"
    Column("client_order_id", String(64), unique=True),  # NULL only for external orders
    Column("broker_order_id", String(64)),
    Column("signal_id", String(128)),
    Column("parent_ref", String(80)),
    Column("external", Boolean, nullable=False),
    Column("account", String(32)),
    Column("conid", BigInteger, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("tif", String(8), nullable=False),
    Column("limit_price", DecimalText),
    Column("stop_price", DecimalText),
    Column("outside_rth", Boolean, nullable=False),
    Column("strategy", String(64)),
    Column("status", String(24), nullable=False),
    Column("broker_status", String(32)),
    Column("reason", Text),
    Column("was_sent", Boolean, nullable=False),
    Column("send_attempts", Integer, nullable=False),
    Column("pending_change", Text),  # JSON of a modify waiting for an answer
    Column("version", Integer, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UtcText),
    Column("in_doubt_since", UtcText),
    Column("created_at", UtcText, nullable=False),
    Column("updated_at", UtcText, nullable=False),
)
Index("ix_orders_status", orders.c.status)
Index("ix_orders_broker_order_id", orders.c.broker_order_id)
Index("ix_orders_signal_id", orders.c.signal_id)

order_events = Table(
    "order_events",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("order_ref", String(80), nullable=False),
    Column("at", UtcText, nullable=False),
    Column("trigger", String(24), nullable=False),
    Column("before", String(24), nullable=False),
    Column("after", String(24), nullable=False),
    Column("detail", Text, nullable=False),
)
Index("ix_order_events_order_ref", order_events.c.order_ref)

executions = Table(
    "executions",
    metadata,
    Column("execution_id", String(128), primary_key=True),
    Column("order_ref", String(80)),
    Column("client_order_id", String(64)),
    Column("broker_order_id", String(64)),
    Column("account", String(32)),
    Column("conid", BigInteger, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("price", DecimalText, nullable=False),
    Column("commission", DecimalText),
    Column("time", UtcText, nullable=False),
    Column("recorded_at", UtcText, nullable=False),
)
Index("ix_executions_order_ref", executions.c.order_ref)

questions = Table(
    "questions",
    metadata,
    Column("id", _SEQ, primary_key=True, autoincrement=True),
    Column("order_ref", String(80), nullable=False),
    Column("message_id", String(64)),
    Column("text", Text, nullable=False),
    Column("answer", Boolean),
    Column("asked_at", UtcText, nullable=False),
)
Index("ix_questions_order_ref", questions.c.order_ref)

operator_state = Table(
    "operator_state",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one row
    Column("state", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("changed_at", UtcText, nullable=False),
    Column("kill_pending", Boolean, nullable=False),  # a kill not yet verified
)

operator_audit = Table(
    "operator_audit",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("at", UtcText, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)

service_events = Table(
    "service_events",
    metadata,
    Column("id", _SEQ, primary_key=True, autoincrement=True),
    Column("at", UtcText, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("data", Text, nullable=False),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", _SEQ, primary_key=True, autoincrement=True),
    Column("started_at", UtcText, nullable=False),
    Column("finished_at", UtcText),
    Column("reason", String(24), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("detail", Text, nullable=False),
)

position_baselines = Table(
    "position_baselines",
    metadata,
    Column("conid", BigInteger, primary_key=True),
    Column("symbol", String(32), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("avg_cost", DecimalText, nullable=False),
    Column("recorded_at", UtcText, nullable=False),
)
