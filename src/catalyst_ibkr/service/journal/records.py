"""Rows of the journal as typed records (what the OMS reads back after a restart)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from catalyst_ibkr.core.orders import Order
from catalyst_ibkr.core.signals import Signal

__all__ = ["OrderRecord", "ReconciliationRun", "SignalRecord"]


@dataclass(frozen=True, slots=True)
class SignalRecord:
    signal: Signal
    fingerprint: str
    status: str
    risk_decision: str | None
    reason_code: str | None
    reason: str | None
    updated_at: datetime


@dataclass(slots=True)
class OrderRecord:
    """An order aggregate with the journal's bookkeeping beside it.

    `version` is what the next save must find (compare-and-swap); `loaded_history` is how
    many transitions were on the aggregate when loaded, so a save appends only new ones.
    """

    order_ref: str
    order: Order
    version: int
    external: bool
    send_attempts: int
    lease_owner: str | None
    lease_until: datetime | None
    in_doubt_since: datetime | None
    created_at: datetime
    updated_at: datetime
    parent_ref: str | None
    loaded_history: int = 0


@dataclass(frozen=True, slots=True)
class ReconciliationRun:
    id: int
    started_at: datetime
    finished_at: datetime | None
    reason: str
    outcome: str
    detail: str
