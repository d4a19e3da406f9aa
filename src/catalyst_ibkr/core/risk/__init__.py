"""Pre-trade risk: frozen limits, pure checks, and the engine that runs them in order.

Public API: `RiskLimits` / `RiskConfigError` (the `[risk]` table), `OrderIntent`,
`CancelIntent` and `RiskContext` (the inputs), `RiskEngine.evaluate(...) -> Decision`,
`Denial` and `ReasonCode` (stable reason codes). See docs/risk.md.
"""

from __future__ import annotations

from catalyst_ibkr.core.risk.config import RiskConfigError, RiskLimits, TradingHours
from catalyst_ibkr.core.risk.context import (
    CancelIntent,
    IntentAction,
    OrderIntent,
    PositionExposure,
    RecentOrder,
    RiskContext,
    WorkingOrder,
)
from catalyst_ibkr.core.risk.engine import ORDER_CHECKS, Check, Decision, RiskEngine
from catalyst_ibkr.core.risk.history import OrderHistory, StrategyFills
from catalyst_ibkr.core.risk.hold import OutageHold
from catalyst_ibkr.core.risk.inputs import (
    counts_as_working,
    intent_for_modify,
    intent_for_order,
    position_exposures,
    working_order_of,
    working_orders_from,
)
from catalyst_ibkr.core.risk.reasons import Denial, ReasonCode

__all__ = [
    "ORDER_CHECKS",
    "CancelIntent",
    "Check",
    "Decision",
    "Denial",
    "IntentAction",
    "OrderHistory",
    "OrderIntent",
    "OutageHold",
    "PositionExposure",
    "ReasonCode",
    "RecentOrder",
    "RiskConfigError",
    "RiskContext",
    "RiskEngine",
    "RiskLimits",
    "StrategyFills",
    "TradingHours",
    "WorkingOrder",
    "counts_as_working",
    "intent_for_modify",
    "intent_for_order",
    "position_exposures",
    "working_order_of",
    "working_orders_from",
]
