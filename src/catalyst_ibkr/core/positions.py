"""Positions and P&L derived from fills (average-cost method).

Why derived from fills: the broker's position is the thing we cross-check against, never the
thing we silently copy (reliability C34); a position we compute ourselves is what lets a
mismatch be noticed at all. Executions are deduplicated by id, so a replay changes nothing.

Conventions (decided here, used everywhere):

* ``quantity`` is signed (long > 0, short < 0). ``cost`` is the signed sum of
  ``quantity * trade price`` of the open quantity, so ``avg_price = cost / quantity``.
* Average cost, not FIFO: IBKR reports positions at average cost, and the reconciler compares
  against that.
* Commissions: a commission paid on an *opening* trade becomes part of the cost basis
  (``open_commission``), as IBKR does in its ``avgCost`` (TWS help: average cost of opening
  positions "including commissions"); it moves into realized P&L in
  proportion when the quantity is closed. A commission on a *closing* trade goes straight to
  realized P&L. A fill that flips long<->short splits its commission pro rata between the closing
  and the opening part. So ``realized_pnl`` is net of all commissions of closed quantity, and
  ``avg_cost`` matches IBKR's per-unit ``avgCost`` (IBKR quotes derivatives per contract,
  i.e. ``avg_cost * multiplier``).
* A commission reported after its fill (TWS sends ``commissionReport`` separately) is booked
  straight into realized P&L, because the quantity it opened may already be partly closed.
  Realized + unrealized (total P&L) is the same either way; only the split differs.
* Division results keep Decimal's 28 significant digits; round only for display.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from catalyst_ibkr.core.errors import FillMismatch
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import ConId, ExecutionId
from catalyst_ibkr.core.money import parse_decimal

__all__ = ["Position", "PositionBook"]

_ZERO = Decimal(0)


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


@dataclass(eq=False)
class Position:
    """Net position in one contract, with its P&L, built only by :meth:`apply_fill`."""

    conid: ConId
    multiplier: Decimal = Decimal(1)
    quantity: Decimal = field(default=_ZERO, init=False)
    cost: Decimal = field(default=_ZERO, init=False)
    open_commission: Decimal = field(default=_ZERO, init=False)
    realized_pnl: Decimal = field(default=_ZERO, init=False)
    total_commission: Decimal = field(default=_ZERO, init=False)
    _commissions: dict[ExecutionId, Decimal | None] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.conid = ConId(self.conid)
        self.multiplier = parse_decimal(self.multiplier, "multiplier", positive=True)

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def avg_price(self) -> Decimal | None:
        """Average trade price of the open quantity, without commissions; None when flat."""
        return None if self.quantity == 0 else self.cost / self.quantity

    @property
    def avg_cost(self) -> Decimal | None:
        """Per-unit cost basis including opening commissions (IBKR's ``avgCost`` convention)."""
        if self.quantity == 0:
            return None
        return (self.cost * self.multiplier + self.open_commission) / (
            self.quantity * self.multiplier
        )

    def market_value(self, mark: Decimal) -> Decimal:
        return self.quantity * mark * self.multiplier

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """P&L of the open quantity at ``mark``, net of the commissions paid to open it."""
        return (self.quantity * mark - self.cost) * self.multiplier - self.open_commission

    def total_pnl(self, mark: Decimal) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl(mark)

    def has_execution(self, execution_id: ExecutionId) -> bool:
        return execution_id in self._commissions

    def apply_fill(self, fill: Fill) -> bool:
        """Book one execution; False (no change) when its id was already booked.

        A replay that now carries the commission (TWS) books just the commission.
        """
        if fill.conid != self.conid:
            raise FillMismatch(f"fill for conid {fill.conid} applied to position {self.conid}")
        if fill.execution_id in self._commissions:
            if fill.commission is not None:
                return self.apply_commission(fill.execution_id, fill.commission)
            return False
        commission = fill.commission if fill.commission is not None else _ZERO
        self._commissions[fill.execution_id] = fill.commission
        self.total_commission += commission
        self._book(fill.signed_quantity, fill.price, commission)
        return True

    def apply_commission(self, execution_id: ExecutionId, commission: Decimal) -> bool:
        """Book a commission reported after its fill. False if it was already booked."""
        if execution_id not in self._commissions:
            raise FillMismatch(f"commission for unknown execution {execution_id}")
        if self._commissions[execution_id] is not None:
            return False
        amount = parse_decimal(commission, "commission")
        self._commissions[execution_id] = amount
        self.total_commission += amount
        self.realized_pnl -= amount
        return True

    def _book(self, delta: Decimal, price: Decimal, commission: Decimal) -> None:
        held = self.quantity
        if held == 0 or _sign(held) == _sign(delta):
            self.quantity = held + delta
            self.cost += delta * price
            self.open_commission += commission
            return
        closing = min(abs(delta), abs(held))
        opening = abs(delta) - closing
        if closing == abs(held):  # whole position closed: take it all, leave no residue
            cost_part, basis_commission = self.cost, self.open_commission
        else:
            cost_part = self.cost * closing / abs(held)
            basis_commission = self.open_commission * closing / abs(held)
        closing_commission = commission if opening == 0 else commission * closing / abs(delta)
        gross = (_sign(held) * closing * price - cost_part) * self.multiplier
        self.realized_pnl += gross - basis_commission - closing_commission
        self.cost -= cost_part
        self.open_commission -= basis_commission
        self.quantity = held + _sign(delta) * closing
        if opening > 0:  # flipped through zero: the rest opens a new position at this price
            self.quantity = _sign(delta) * opening
            self.cost = self.quantity * price
            self.open_commission = commission - closing_commission


class PositionBook:
    """All positions of one account, keyed by conid; the fill router for positions."""

    def __init__(self, multipliers: Mapping[ConId, Decimal] | None = None) -> None:
        self._multipliers = dict(multipliers or {})
        self._positions: dict[ConId, Position] = {}

    def apply_fill(self, fill: Fill) -> bool:
        position = self._positions.get(fill.conid)
        if position is None:
            multiplier = self._multipliers.get(fill.conid, Decimal(1))
            position = self._positions[fill.conid] = Position(fill.conid, multiplier)
        return position.apply_fill(fill)

    def apply_fills(self, fills: Iterable[Fill]) -> int:
        """Book many fills; returns how many were new."""
        return sum(self.apply_fill(fill) for fill in fills)

    def get(self, conid: ConId) -> Position | None:
        return self._positions.get(conid)

    def quantity(self, conid: ConId) -> Decimal:
        position = self._positions.get(conid)
        return _ZERO if position is None else position.quantity

    @property
    def positions(self) -> tuple[Position, ...]:
        """Every position ever traded, flat ones included (they hold realized P&L)."""
        return tuple(self._positions.values())

    @property
    def realized_pnl(self) -> Decimal:
        return sum((p.realized_pnl for p in self._positions.values()), _ZERO)

    def unrealized_pnl(self, marks: Mapping[ConId, Decimal]) -> Decimal:
        """Unrealized P&L of open positions; a position without a mark raises KeyError."""
        return sum(
            (p.unrealized_pnl(marks[p.conid]) for p in self._positions.values() if not p.is_flat),
            _ZERO,
        )

    def gross_exposure(self, marks: Mapping[ConId, Decimal]) -> Decimal:
        """Sum of |market value| of open positions."""
        return sum(
            (
                abs(p.market_value(marks[p.conid]))
                for p in self._positions.values()
                if not p.is_flat
            ),
            _ZERO,
        )
