"""The order book's bookkeeping: ids, cOID registry, working set, bracket and OCA links.

Kept apart from the matching loop so ``SimEngine`` reads as the rules and this file as the
indexes that make ``step()`` cost O(working orders), never O(all instruments or orders).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ibkr_sim.engine.types import SimOrder

__all__ = ["COID_WINDOW", "OrderBook", "oca_key"]

COID_WINDOW = timedelta(hours=24)
FIRST_ORDER_ID = 1_000_000_001  # IBKR's order ids are 9-10 digit increasing integers

OcaKey = tuple[str, str]


def oca_key(order: SimOrder) -> OcaKey | None:
    """Explicit OCA group, else the implicit one every bracket's children share."""
    if order.oca_group:
        return (order.account, "oca:" + order.oca_group)
    if order.parent_order_id is not None:
        return (order.account, f"bracket:{order.parent_order_id}")
    return None


class OrderBook:
    def __init__(self, seed: int = 0) -> None:
        self._next_id = FIRST_ORDER_ID + (seed % 1000) * 10_000
        self.clear()

    def clear(self) -> None:
        """Forget every order; order ids keep increasing so a client never sees one reused."""
        self.orders: dict[int, SimOrder] = {}
        self.working: dict[int, None] = {}  # non-terminal orders step() must look at
        self.held: dict[int, list[int]] = {}  # parent order id -> children waiting for it
        self.coids: dict[tuple[str, str], tuple[datetime, int]] = {}
        self.oca: dict[OcaKey, list[int]] = {}

    def next_id(self) -> int:
        order_id = self._next_id
        self._next_id += 1
        return order_id

    def coid_in_use(self, account: str, coid: str, now: datetime) -> bool:
        seen = self.coids.get((account, coid))
        return seen is not None and now - seen[0] < COID_WINDOW

    def by_coid(self, account: str, coid: str) -> SimOrder | None:
        seen = self.coids.get((account, coid))
        return self.orders.get(seen[1]) if seen else None

    def add(self, order: SimOrder, *, held: bool) -> None:
        self.orders[order.order_id] = order
        if order.coid is not None:
            self.coids[(order.account, order.coid)] = (order.created_at, order.order_id)
        if held:
            assert order.parent_order_id is not None
            self.held.setdefault(order.parent_order_id, []).append(order.order_id)
        elif not order.is_terminal:
            self.working[order.order_id] = None
        key = oca_key(order)
        if key is not None:
            self.oca.setdefault(key, []).append(order.order_id)

    def store(self, order: SimOrder) -> None:
        """Replace an order's snapshot; a finished order leaves the working set."""
        self.orders[order.order_id] = order
        if order.is_terminal:
            self.working.pop(order.order_id, None)

    def release_children(self, parent_id: int) -> list[SimOrder]:
        """Children of ``parent_id`` that were waiting; they join the working set."""
        ids = self.held.pop(parent_id, [])
        for order_id in ids:
            if not self.orders[order_id].is_terminal:
                self.working[order_id] = None
        return [self.orders[i] for i in ids]

    def children(self, parent_id: int) -> Iterator[SimOrder]:
        for order in self.orders.values():
            if order.parent_order_id == parent_id:
                yield order

    def oca_siblings(self, order: SimOrder) -> list[SimOrder]:
        key = oca_key(order)
        if key is None:
            return []
        return [
            self.orders[i]
            for i in self.oca.get(key, [])
            if i != order.order_id and not self.orders[i].is_terminal
        ]
