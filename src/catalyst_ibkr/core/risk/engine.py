"""`RiskEngine`: runs the checks in one fixed order and returns a `Decision`.

Why a fixed order: the first denial is the reported reason, so the same order in the same
context always gets the same reason code (stable for dashboards and tests), and the cheap,
state-level refusals (outage hold, HALTED) come before anything that reads market data.
The engine holds no mutable state: evaluating never changes anything, and a denied order
leaves no trace but the Decision the caller journals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from catalyst_ibkr.core.enums import TradingState
from catalyst_ibkr.core.risk.checks_market import (
    check_buying_power,
    check_fresh_quote,
    check_gross_exposure,
    check_notional,
    check_position,
    check_price_collar,
    check_reduce_only,
    daily_loss_breached,
)
from catalyst_ibkr.core.risk.checks_order import (
    check_broker_hold,
    check_duplicate,
    check_halted,
    check_instrument_known,
    check_lists,
    check_order_type_and_tif,
    check_order_values,
    check_quantity,
    check_rate,
    check_strategy_enabled,
    check_trading_hours,
)
from catalyst_ibkr.core.risk.config import RiskLimits
from catalyst_ibkr.core.risk.context import CancelIntent, OrderIntent, RiskContext
from catalyst_ibkr.core.risk.reasons import Denial, ReasonCode

__all__ = ["ORDER_CHECKS", "Check", "Decision", "RiskEngine"]

Check = Callable[[OrderIntent, RiskContext, RiskLimits], Denial | None]

#: The order in which checks run for a new order or a modify. Later checks may assume that
#: earlier ones passed (e.g. the instrument is known, the quote is fresh).
ORDER_CHECKS: tuple[Check, ...] = (
    check_halted,
    check_strategy_enabled,
    check_instrument_known,
    check_lists,
    check_order_type_and_tif,
    check_order_values,
    check_trading_hours,
    check_quantity,
    check_fresh_quote,
    check_price_collar,
    check_notional,
    check_reduce_only,
    check_position,
    check_gross_exposure,
    check_buying_power,
    check_duplicate,
    check_rate,
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict. `trip_to` asks the caller to persist a stricter operator state (the daily
    loss limit trips ACTIVE to REDUCING); it is set whether or not this order passed."""

    denial: Denial | None = None
    trip_to: TradingState | None = None

    @property
    def allowed(self) -> bool:
        return self.denial is None

    @property
    def reason_code(self) -> ReasonCode | None:
        return None if self.denial is None else self.denial.reason_code


class RiskEngine:
    """Pre-trade risk: `evaluate(intent, context) -> Decision`, pure and deterministic."""

    def __init__(self, limits: RiskLimits, checks: tuple[Check, ...] = ORDER_CHECKS) -> None:
        self._limits = limits
        self._checks = checks

    @property
    def limits(self) -> RiskLimits:
        return self._limits

    def evaluate(self, intent: OrderIntent | CancelIntent, ctx: RiskContext) -> Decision:
        trip = self._trip(ctx)
        held = check_broker_hold(ctx)
        if held is not None:
            return Decision(held, trip)
        if isinstance(intent, CancelIntent):
            return Decision(None, trip)  # cancels pass in every operator state
        for check in self._checks:
            denial = check(intent, ctx, self._limits)
            if denial is not None:
                return Decision(denial, trip)
        return Decision(None, trip)

    def _trip(self, ctx: RiskContext) -> TradingState | None:
        if ctx.trading_state is TradingState.ACTIVE and daily_loss_breached(ctx, self._limits):
            return TradingState.REDUCING
        return None
