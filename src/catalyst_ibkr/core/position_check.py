"""Compare our fill-derived positions with the broker's, without deciding what to do.

Why a pure comparison: reliability C34/D37 says positions are derived from fills and
cross-checked against IBKR, and an unexplained quantity mismatch fails closed. Whether to halt,
wait for late executions or adopt is the reconciler's policy; *what differs* is a fact the core
can state exactly. Quantity differences are always reported; average-cost differences only
beyond a tolerance (IBKR rounds, and a commission reported late moves our split, see
positions.py), and they are informational.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.positions import PositionBook

__all__ = ["BrokerPosition", "MismatchKind", "PositionMismatch", "compare_positions"]


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    """One line of the broker's positions. ``avg_cost`` per unit, as ``Position.avg_cost``
    (divide IBKR's per-contract figure by the multiplier first)."""

    conid: ConId
    quantity: Decimal
    avg_cost: Decimal | None = None


class MismatchKind(StrEnum):
    QUANTITY = "QUANTITY"  # blocking: the books disagree about what we hold
    AVG_COST = "AVG_COST"  # informational: same holding, different basis


@dataclass(frozen=True, slots=True)
class PositionMismatch:
    conid: ConId
    kind: MismatchKind
    ours: Decimal | None
    broker: Decimal | None

    def __str__(self) -> str:
        what = "quantity" if self.kind is MismatchKind.QUANTITY else "average cost"
        return f"conid {self.conid}: {what} ours {self.ours} vs IBKR {self.broker}"


def compare_positions(
    ours: PositionBook,
    broker: Iterable[BrokerPosition],
    *,
    avg_cost_tolerance: Decimal = Decimal("0.01"),
) -> tuple[PositionMismatch, ...]:
    """Every difference, quantity mismatches first, each group ordered by conid.

    A contract missing on one side counts as zero there ("missing reports do not mean flat"
    is the reconciler's call; here a missing line simply reads as zero).
    """
    theirs = {line.conid: line for line in broker}
    conids = sorted({p.conid for p in ours.positions} | set(theirs))
    quantity: list[PositionMismatch] = []
    cost: list[PositionMismatch] = []
    for conid in conids:
        mine = ours.quantity(conid)
        line = theirs.get(conid)
        other = line.quantity if line is not None else Decimal(0)
        if mine != other:
            quantity.append(PositionMismatch(conid, MismatchKind.QUANTITY, mine, other))
            continue
        position = ours.get(conid)
        if line is None or line.avg_cost is None or position is None or position.is_flat:
            continue
        basis = position.avg_cost
        if basis is not None and abs(basis - line.avg_cost) > avg_cost_tolerance:
            cost.append(PositionMismatch(conid, MismatchKind.AVG_COST, basis, line.avg_cost))
    return (*quantity, *cost)
