"""OrderLookup's rule that a blank pre-flight list is never evidence of absence.

A fake client stands in for the gateway here (the simulator always answers with a real list
after one pre-flight, so the "still blank" case cannot be produced over a socket).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from catalyst_ibkr.adapters.webapi.lookup import OrderLookup
from catalyst_ibkr.adapters.webapi.wire import LiveOrder, LiveOrders
from catalyst_ibkr.core.ids import ClientOrderId
from catalyst_ibkr.ports.broker import BrokerUnavailable

NOW = datetime(2026, 1, 5, 15, tzinfo=UTC)
ROW = {
    "acct": "DU1",
    "conid": 265598,
    "orderId": 7,
    "order_ref": "sig-1",
    "ticker": "AAPL",
    "side": "BUY",
    "status": "Submitted",
    "orderType": "Limit",
    "totalSize": 1.0,
    "filledQuantity": 0.0,
    "price": "98.00",
    "timeInForce": "DAY",
}


class FakeClient:
    def __init__(self, answers: list[LiveOrders]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []

    async def live_orders(self, **kw: Any) -> LiveOrders:
        self.calls.append(kw)
        if kw.get("force"):
            return LiveOrders(orders=[], snapshot=False)
        return self.answers.pop(0) if self.answers else LiveOrders(orders=[], snapshot=False)

    async def trades(self, **kw: Any) -> list[Any]:
        return []


def lookup(answers: list[LiveOrders], attempts: int = 3) -> tuple[OrderLookup, FakeClient]:
    fake = FakeClient(answers)
    return OrderLookup(fake, preflight_attempts=attempts), fake  # type: ignore[arg-type]


async def test_only_blank_lists_mean_we_cannot_tell_not_absent() -> None:
    look, fake = lookup([])
    with pytest.raises(BrokerUnavailable, match="pre-flight"):
        await look.by_coid(ClientOrderId("sig-1"), NOW)
    assert fake.calls[0] == {"force": True}  # the first list of a session is forced
    assert len(fake.calls) == 1 + 3


async def test_a_real_empty_snapshot_is_definitive() -> None:
    look, _ = lookup([LiveOrders(orders=[], snapshot=True)])
    assert await look.by_coid(ClientOrderId("sig-1"), NOW) is None


async def test_blank_then_real_list_finds_the_order() -> None:
    row = LiveOrder.model_validate(ROW)
    look, fake = lookup(
        [LiveOrders(orders=[], snapshot=False), LiveOrders(orders=[row], snapshot=True)]
    )
    report = await look.by_coid(ClientOrderId("sig-1"), NOW)
    assert report is not None and report.broker_order_id == "7"
    assert look.order_ids[ClientOrderId("sig-1")] == "7"
    look.new_session()
    assert not look._primed and fake.calls[-1] == {}
