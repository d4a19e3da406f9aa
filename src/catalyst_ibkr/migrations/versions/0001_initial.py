"""Initial journal: signals, orders, order events, executions, questions, operator state
and audit, service events, reconciliation runs, position baselines.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from catalyst_ibkr.service.journal.types import DecimalText, UtcText

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", UtcText, nullable=False),
        sa.Column("expires_at", UtcText, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("risk_decision", sa.String(16)),
        sa.Column("reason_code", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("updated_at", UtcText, nullable=False),
    )
    op.create_index("ix_signals_status", "signals", ["status"])
    op.create_table(
        "orders",
        sa.Column("order_ref", sa.String(80), primary_key=True),
        sa.Column("client_order_id", sa.String(64), unique=True),
        sa.Column("broker_order_id", sa.String(64)),
        sa.Column("signal_id", sa.String(128)),
        sa.Column("parent_ref", sa.String(80)),
        sa.Column("external", sa.Boolean, nullable=False),
        sa.Column("account", sa.String(32)),
        sa.Column("conid", sa.BigInteger, nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", DecimalText, nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("tif", sa.String(8), nullable=False),
        sa.Column("limit_price", DecimalText),
        sa.Column("stop_price", DecimalText),
        sa.Column("outside_rth", sa.Boolean, nullable=False),
        sa.Column("strategy", sa.String(64)),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("broker_status", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("was_sent", sa.Boolean, nullable=False),
        sa.Column("send_attempts", sa.Integer, nullable=False),
        sa.Column("pending_change", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", UtcText),
        sa.Column("in_doubt_since", UtcText),
        sa.Column("created_at", UtcText, nullable=False),
        sa.Column("updated_at", UtcText, nullable=False),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_broker_order_id", "orders", ["broker_order_id"])
    op.create_index("ix_orders_signal_id", "orders", ["signal_id"])
    op.create_table(
        "order_events",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("order_ref", sa.String(80), nullable=False),
        sa.Column("at", UtcText, nullable=False),
        sa.Column("trigger", sa.String(24), nullable=False),
        sa.Column("before", sa.String(24), nullable=False),
        sa.Column("after", sa.String(24), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_order_events_order_ref", "order_events", ["order_ref"])
    op.create_table(
        "executions",
        sa.Column("execution_id", sa.String(128), primary_key=True),
        sa.Column("order_ref", sa.String(80)),
        sa.Column("client_order_id", sa.String(64)),
        sa.Column("broker_order_id", sa.String(64)),
        sa.Column("account", sa.String(32)),
        sa.Column("conid", sa.BigInteger, nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", DecimalText, nullable=False),
        sa.Column("price", DecimalText, nullable=False),
        sa.Column("commission", DecimalText),
        sa.Column("time", UtcText, nullable=False),
        sa.Column("recorded_at", UtcText, nullable=False),
    )
    op.create_index("ix_executions_order_ref", "executions", ["order_ref"])
    op.create_table(
        "questions",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("order_ref", sa.String(80), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("answer", sa.Boolean),
        sa.Column("asked_at", UtcText, nullable=False),
    )
    op.create_index("ix_questions_order_ref", "questions", ["order_ref"])
    op.create_table(
        "operator_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("changed_at", UtcText, nullable=False),
        sa.Column("kill_pending", sa.Boolean, nullable=False),
    )
    op.create_table(
        "operator_audit",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("at", UtcText, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "service_events",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("at", UtcText, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("started_at", UtcText, nullable=False),
        sa.Column("finished_at", UtcText),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "position_baselines",
        sa.Column("conid", sa.BigInteger, primary_key=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("quantity", DecimalText, nullable=False),
        sa.Column("avg_cost", DecimalText, nullable=False),
        sa.Column("recorded_at", UtcText, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "position_baselines", "reconciliation_runs", "service_events", "operator_audit",
        "operator_state", "questions", "executions", "order_events", "orders", "signals",
    ):  # fmt: skip
        op.drop_table(table)
