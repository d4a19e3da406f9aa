"""Index signals by (status, expires_at) for the OMS's expiry sweep.

Why: the sweep runs on every pass of the order loop and asks for the RECEIVED signals whose
TTL has run out; with only the status index it read every waiting signal (about 2 ms per
pass behind a backlog of 13,000 signals), with this one it reads only those that are due.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signals_status_expires_at", "signals", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_signals_status_expires_at", table_name="signals")
