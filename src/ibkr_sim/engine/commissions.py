"""IBKR US "Fixed" stock commissions: USD 0.005/share, min 1.00, max 1% of trade value.

IBKR's pricing page gives the examples 100 @ 25 = 1.00, 1,000 @ 25 = 5.00 and
1,000 @ 0.25 = 2.50 (the 1% cap wins over the per-share amount), and a 0.01 minimum for
fractional-share orders.

IBKR applies the minimum and the maximum per ORDER, not per execution. So the commission of an
execution is the order's cumulative commission after the fill minus what was already
charged; a 1,000-share order filled in ten slices pays 5.00 in total, not 10 x 1.00.
Exchange, regulatory and clearing pass-through fees are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CommissionSchedule", "FixedCommission"]

_CENT = Decimal("0.01")


class CommissionSchedule:
    """Interface: the commission of a whole order given its cumulative fills."""

    def order_total(self, filled_quantity: Decimal, filled_value: Decimal) -> Decimal:
        raise NotImplementedError

    def for_fill(
        self,
        before_quantity: Decimal,
        before_value: Decimal,
        fill_quantity: Decimal,
        fill_value: Decimal,
    ) -> Decimal:
        """Commission owed for one execution given what the order had filled before it."""
        before = self.order_total(before_quantity, before_value) if before_quantity else Decimal(0)
        after = self.order_total(before_quantity + fill_quantity, before_value + fill_value)
        return after - before


@dataclass(frozen=True, slots=True)
class FixedCommission(CommissionSchedule):
    per_share: Decimal = Decimal("0.005")
    minimum: Decimal = Decimal("1.00")
    fractional_minimum: Decimal = Decimal("0.01")
    max_fraction_of_value: Decimal = Decimal("0.01")

    def order_total(self, filled_quantity: Decimal, filled_value: Decimal) -> Decimal:
        """The cap wins over the minimum, so a tiny trade never pays more than 1% of value."""
        if filled_quantity <= 0:
            return Decimal(0)
        whole = filled_quantity == filled_quantity.to_integral_value()
        raw = max(filled_quantity * self.per_share,
                  self.minimum if whole else self.fractional_minimum)
        capped = min(raw, abs(filled_value) * self.max_fraction_of_value)
        return capped.quantize(_CENT, rounding=ROUND_HALF_UP)
