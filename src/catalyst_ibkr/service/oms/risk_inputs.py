"""What risk derives from each journaled order, kept per order version.

Why: every decision hands risk every order of the last hour (the throttle and duplicate
checks) and every open order (the exposure limits). `Journal.read_orders` already decodes a
row only when its version moves, but turning each record into its `RecentOrder` and
`WorkingOrder` again for every decision still made a decision cost O(orders of the day): with
a few hundred passive orders working it was most of a decision's CPU. A record that
`read_orders` hands out again is the same object for the same version, so what was derived
from it holds for as long as that object is handed out (and, for a working order, the mark it
was priced at has not moved).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from catalyst_ibkr.core.risk import (
    RecentOrder,
    WorkingOrder,
    counts_as_working,
    intent_for_order,
    working_order_of,
)
from catalyst_ibkr.service.journal.records import OrderRecord

__all__ = ["RiskInputs"]

#: entries kept beyond the orders of the last read before the cache is pruned to those
_SLACK = 1024


@dataclass
class RiskInputs:
    """Derived risk inputs, keyed by order ref and valid for one record object."""

    _recent: dict[str, tuple[OrderRecord, RecentOrder]] = field(default_factory=dict)
    _working: dict[str, tuple[OrderRecord, Decimal | None, WorkingOrder]] = field(
        default_factory=dict)

    def recent(self, record: OrderRecord) -> RecentOrder:
        """The order as the throttle and duplicate checks remember it."""
        hit = self._recent.get(record.order_ref)
        if hit is not None and hit[0] is record:
            return hit[1]
        value = RecentOrder.of(intent_for_order(record.order), record.created_at)
        self._recent[record.order_ref] = (record, value)
        return value

    def working(self, record: OrderRecord, mark: Decimal | None) -> WorkingOrder | None:
        """Its exposure at `mark` (None: it does not count as working). Raises ValueError
        when it cannot be valued (see `working_order_of`)."""
        if not counts_as_working(record.order):
            return None
        hit = self._working.get(record.order_ref)
        if hit is not None and hit[0] is record and hit[1] == mark:
            return hit[2]
        value = working_order_of(record.order, mark)
        self._working[record.order_ref] = (record, mark, value)
        return value

    def prune(self, current: Iterable[OrderRecord]) -> None:
        """Forget orders no longer read (closed and older than the hour), now and then."""
        refs = {r.order_ref for r in current}
        for table in (self._recent, self._working):
            if len(table) > len(refs) + _SLACK:
                for ref in [ref for ref in table if ref not in refs]:
                    del table[ref]
