"""Cash, positions and the balances derived from them, for one account.

Conventions (IBKR's): ``avg_cost`` includes commissions (a buy of 100 @ 10.00 paying 1.00 has
avg cost 10.01; a short's avg cost is its proceeds net of commission per share); realized P&L
is net of commissions. With those, at every instant
``net_liquidation - starting_cash == realized_pnl + unrealized_pnl`` (up to Decimal rounding
of the average), which the property tests check.

Margin is a simplified Reg T: initial margin 50% of gross position value, maintenance 25% of
long and 30% of short value, buying power 4x available funds (intraday). IBKR's real rules
(house margin, SMA, portfolio margin) are richer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ibkr_sim.engine.types import AccountState, SimPosition

__all__ = ["FillEffect", "Portfolio", "tidy"]

ZERO = Decimal(0)
INITIAL_MARGIN = Decimal("0.5")
MAINT_LONG = Decimal("0.25")
MAINT_SHORT = Decimal("0.30")
INTRADAY_LEVERAGE = Decimal(4)

PriceOf = Callable[[int], Decimal]
_TIDY = Decimal("1e-10")


def tidy(value: Decimal) -> Decimal:
    """Round a derived figure (averages, P&L) to 10 places without trailing zeros.

    Averages are divisions and would otherwise carry 28 significant digits into every
    response; the books themselves keep full precision.
    """
    rounded = value.quantize(_TIDY)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(Decimal(1))
    return rounded.normalize()


@dataclass(slots=True)
class _Holding:
    conid: int
    symbol: str
    quantity: Decimal = ZERO
    avg_cost: Decimal = ZERO
    realized: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class FillEffect:
    position_after: Decimal
    realized: Decimal


class Portfolio:
    def __init__(self, account: str, starting_cash: Decimal) -> None:
        self.account = account
        self.starting_cash = starting_cash
        self.cash = starting_cash
        self.realized = ZERO
        self.commissions = ZERO
        self._holdings: dict[int, _Holding] = {}
        self._day: date | None = None
        self._day_start_nlv = starting_cash

    def holdings(self) -> Iterator[_Holding]:
        return iter(self._holdings.values())

    def quantity(self, conid: int) -> Decimal:
        holding = self._holdings.get(conid)
        return holding.quantity if holding else ZERO

    def apply_fill(
        self, conid: int, symbol: str, signed_qty: Decimal, price: Decimal, commission: Decimal
    ) -> FillEffect:
        """Book one execution: cash, position, average cost and realized P&L."""
        holding = self._holdings.get(conid)
        if holding is None:
            holding = self._holdings[conid] = _Holding(conid, symbol)
        self.cash -= signed_qty * price + commission
        self.commissions += commission
        realized = ZERO
        q = holding.quantity
        if q == 0 or (q > 0) == (signed_qty > 0):
            new_q = q + signed_qty
            holding.avg_cost = (holding.avg_cost * q + price * signed_qty + commission) / new_q
            holding.quantity = new_q
        else:
            size = abs(signed_qty)
            closing = min(size, abs(q))
            closing_commission = commission * closing / size
            direction = Decimal(1) if q > 0 else Decimal(-1)
            realized = (price - holding.avg_cost) * closing * direction - closing_commission
            holding.quantity = q - direction * closing
            opening = size - closing
            if opening > 0:  # the fill flipped the position through zero
                opened = -direction * opening
                holding.avg_cost = (price * opened + (commission - closing_commission)) / opened
                holding.quantity = opened
            elif holding.quantity == 0:
                holding.avg_cost = ZERO
        holding.realized += realized
        self.realized += realized
        return FillEffect(position_after=holding.quantity, realized=tidy(realized))

    def positions(self, price_of: PriceOf) -> list[SimPosition]:
        out = []
        for h in self._holdings.values():
            if h.quantity == 0:
                continue
            price = price_of(h.conid)
            out.append(
                SimPosition(
                    conid=h.conid,
                    symbol=h.symbol,
                    quantity=h.quantity,
                    avg_cost=tidy(h.avg_cost),
                    realized_pnl=tidy(h.realized),
                    market_price=price,
                    market_value=h.quantity * price,
                    unrealized_pnl=tidy(h.quantity * (price - h.avg_cost)),
                    account=self.account,
                )
            )
        return out

    def state(self, price_of: PriceOf, today: date) -> AccountState:
        long_value = short_value = unrealized = ZERO
        for h in self._holdings.values():
            if h.quantity == 0:
                continue
            price = price_of(h.conid)
            value = h.quantity * price
            if value >= 0:
                long_value += value
            else:
                short_value -= value
            unrealized += h.quantity * (price - h.avg_cost)
        nlv = self.cash + long_value - short_value
        if self._day != today:  # first look at a new day: P&L for the day counts from here
            self._day, self._day_start_nlv = today, nlv
        gross = long_value + short_value
        init_margin = gross * INITIAL_MARGIN
        maint_margin = long_value * MAINT_LONG + short_value * MAINT_SHORT
        available = nlv - init_margin
        return AccountState(
            account=self.account,
            cash=self.cash,
            net_liquidation=nlv,
            gross_position_value=gross,
            buying_power=max(ZERO, available) * INTRADAY_LEVERAGE,
            available_funds=available,
            excess_liquidity=nlv - maint_margin,
            init_margin=init_margin,
            maint_margin=maint_margin,
            realized_pnl=tidy(self.realized),
            unrealized_pnl=tidy(unrealized),
            daily_pnl=nlv - self._day_start_nlv,
            commissions=self.commissions,
        )
