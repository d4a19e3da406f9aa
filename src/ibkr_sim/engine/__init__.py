"""The simulator's order engine: orders, matching, fills, commissions, portfolio, events.

Pure Python (no sockets, no asyncio) so the Client Portal view and the TWS view share it.
"""

from __future__ import annotations

from ibkr_sim.engine.commissions import CommissionSchedule, FixedCommission
from ibkr_sim.engine.engine import SimEngine
from ibkr_sim.engine.errors import EngineRejection, OrderNotFound
from ibkr_sim.engine.events import EngineEvent, ExecutionAdded, Listener, OrderChanged
from ibkr_sim.engine.types import (
    TERMINAL_STATUSES,
    AccountState,
    Execution,
    OrderStatus,
    OrderTicket,
    OrderType,
    Origin,
    Side,
    SimOrder,
    SimPosition,
    TimeInForce,
)

__all__ = [
    "TERMINAL_STATUSES",
    "AccountState",
    "CommissionSchedule",
    "EngineEvent",
    "EngineRejection",
    "Execution",
    "ExecutionAdded",
    "FixedCommission",
    "Listener",
    "OrderChanged",
    "OrderNotFound",
    "OrderStatus",
    "OrderTicket",
    "OrderType",
    "Origin",
    "Side",
    "SimEngine",
    "SimOrder",
    "SimPosition",
    "TimeInForce",
]
