"""Random sequences against MemoryBroker keep the venue's books consistent.

The fake is the ground truth for risk and OMS tests, so its own invariants are checked under
random place / modify / cancel / market moves / forced fills / faults:
- at most one venue order per cOID, whatever faults fired;
- no order fills beyond its quantity; closed orders are not in open_orders;
- every position equals the signed sum of its executions; execution ids are unique.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from catalyst_ibkr.adapters.memory import DEFAULT_INSTRUMENTS, MemoryBroker
from catalyst_ibkr.core.enums import OrderType, Side, TimeInForce
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.ports.broker import (
    BrokerUnavailable,
    CancelOrder,
    ModifyOrder,
    OutcomeUnknown,
    PlaceOrder,
)

D = Decimal
COIDS = [ClientOrderId(f"s-{i}") for i in range(8)]
prices = st.integers(min_value=95, max_value=105).map(D)


class MemoryBrokerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.broker = MemoryBroker()
        self.broker.set_quote("AAPL", bid=D(99), ask=D(101))

    def run(self, coro: object) -> object:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        self.loop.close()

    @rule(cid=st.sampled_from(COIDS), side=st.sampled_from(list(Side)),
          qty=st.integers(1, 20).map(D), order_type=st.sampled_from(list(OrderType)),
          price=prices, tif=st.sampled_from(list(TimeInForce)),
          fault=st.sampled_from(["none", "none", "reject", "landed", "lost", "down"]))
    def place(self, cid: ClientOrderId, side: Side, qty: Decimal, order_type: OrderType,
              price: Decimal, tif: TimeInForce, fault: str) -> None:
        request = PlaceOrder(
            cid, DEFAULT_INSTRUMENTS[0], side, qty, order_type, tif,
            limit_price=price if order_type.needs_limit_price else None,
            stop_price=price if order_type.needs_stop_price else None,
        )
        self._arm(fault, "place")
        with contextlib.suppress(OutcomeUnknown, BrokerUnavailable):
            self.run(self.broker.place(request))

    @rule(cid=st.sampled_from(COIDS), fault=st.sampled_from(["none", "landed", "lost"]))
    def cancel(self, cid: ClientOrderId, fault: str) -> None:
        self._arm(fault, "cancel")
        with contextlib.suppress(OutcomeUnknown):
            self.run(self.broker.cancel(CancelOrder(cid)))

    @rule(cid=st.sampled_from(COIDS), qty=st.integers(1, 30).map(D))
    def modify_quantity(self, cid: ClientOrderId, qty: Decimal) -> None:
        self.run(self.broker.modify(ModifyOrder(cid, quantity=qty)))

    @rule(bid=prices, spread=st.integers(0, 3).map(D))
    def move_market(self, bid: Decimal, spread: Decimal) -> None:
        self.broker.set_quote("AAPL", bid=bid, ask=bid + spread)

    @rule(limit=st.none() | st.integers(1, 7).map(D))
    def partial_fills(self, limit: Decimal | None) -> None:
        self.broker.set_fill_limit(limit)

    @rule(cid=st.sampled_from(COIDS), qty=st.integers(1, 30).map(D))
    def force_fill(self, cid: ClientOrderId, qty: Decimal) -> None:
        if self.broker.orders_for(cid):
            self.broker.fill(cid, qty, D(100))

    @rule()
    def cancel_all(self) -> None:
        self.run(self.broker.cancel_all())

    def _arm(self, fault: str, command: str) -> None:
        if fault == "reject":
            self.broker.reject_next(command)  # type: ignore[arg-type]
        elif fault == "landed":
            self.broker.unknown_next(command, landed=True)  # type: ignore[arg-type]
        elif fault == "lost":
            self.broker.unknown_next(command, landed=False)  # type: ignore[arg-type]
        elif fault == "down":
            self.broker.unavailable_next(command)  # type: ignore[arg-type]

    @invariant()
    def one_order_per_coid(self) -> None:
        for cid in COIDS:
            assert len(self.broker.orders_for(cid)) <= 1

    @invariant()
    def fills_never_exceed_quantity_and_open_means_working(self) -> None:
        opens = {o.broker_order_id for o in self.run(self.broker.open_orders())}  # type: ignore[attr-defined]
        for cid in COIDS:
            for report in self.broker.orders_for(cid):
                assert 0 <= report.filled_quantity <= report.quantity
                assert (report.broker_order_id in opens) == report.status.is_working

    @invariant()
    def positions_equal_signed_executions(self) -> None:
        executions = self.run(self.broker.executions(self.broker._clock.now()))
        ids = [x.execution_id for x in executions]  # type: ignore[attr-defined]
        assert len(ids) == len(set(ids))
        expected: dict[object, Decimal] = defaultdict(Decimal)
        for x in executions:  # type: ignore[attr-defined]
            expected[x.conid] += x.side.sign * x.quantity
        held = {p.conid: p.quantity for p in self.run(self.broker.positions())}  # type: ignore[attr-defined]
        assert held == {k: v for k, v in expected.items() if v != 0}


TestMemoryBrokerMachine = MemoryBrokerMachine.TestCase
