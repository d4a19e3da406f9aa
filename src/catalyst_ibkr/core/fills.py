"""Executions: the only evidence that shares changed hands.

Why fills are separate from orders: positions are derived from fills (reliability C34), fills
arrive out of order and more than once (TWS replays ``execDetails`` on reconnect; Client
Portal's trades list overlaps the ``sor`` stream), and the execution id is the key that makes
every replay harmless.

Commission: TWS sends it later in a separate ``commissionReport``, Client Portal inline. So
``commission`` may be ``None`` (not reported yet); see ``positions.py`` for how a late
commission is booked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.ids import AccountId, BrokerOrderId, ClientOrderId, ConId, ExecutionId
from catalyst_ibkr.core.money import ensure_aware_utc, parse_decimal

__all__ = ["Fill"]


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``quantity`` > 0 and ``side`` give the direction; ``commission`` is a
    cost in the account currency (positive = paid, negative = rebate; None = not reported)."""

    execution_id: ExecutionId
    conid: ConId
    side: Side
    quantity: Decimal
    price: Decimal
    time: datetime
    commission: Decimal | None = None
    client_order_id: ClientOrderId | None = None
    broker_order_id: BrokerOrderId | None = None
    account: AccountId | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "execution_id", ExecutionId(self.execution_id))
        object.__setattr__(self, "conid", ConId(self.conid))
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(
            self, "quantity", parse_decimal(self.quantity, "quantity", positive=True)
        )
        object.__setattr__(self, "price", parse_decimal(self.price, "price", positive=True))
        object.__setattr__(self, "time", ensure_aware_utc(self.time, "time"))
        if self.commission is not None:
            object.__setattr__(self, "commission", parse_decimal(self.commission, "commission"))

    @property
    def signed_quantity(self) -> Decimal:
        """+quantity for a buy, -quantity for a sell."""
        return self.side.sign * self.quantity
