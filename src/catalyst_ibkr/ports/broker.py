"""The `Broker` port: what the gateway needs from IBKR, independent of which API carries it.

Drafted against both the Client Portal Web API (REST + websocket, orders keyed by `cOID`
echoed as `order_ref`) and the TWS socket API (numeric order ids per client, `orderRef`,
`execDetails` replays), so that neither adapter has to bend it:

- orders are named by OUR `ClientOrderId` (cOID / orderRef); the broker's own id is a report
  field and an optional hint, never something the caller must know first;
- every command (place / modify / cancel / cancel-all) ends in exactly one of three ways:
  `Accepted` or `Rejected` (definitive broker evidence), or the exception `OutcomeUnknown`
  (the request may or may not have taken effect: a timeout, a reset, a 5xx, a parse error
  after sending). An unknown outcome is reconciled by `order(cOID)`, never retried blind.
  `BrokerUnavailable` means the request provably never left this process;
- reads are idempotent; `order(cOID)` returns None only when the broker definitively does
  not know the order. An adapter that cannot be sure (the Web API's blank "pre-flight"
  order list) raises `BrokerUnavailable` instead of answering None;
- `events()` is an async stream of order status, fill and session-health events.

The values (requests, outcomes, reports, events, errors) live in `broker_types` and are
re-exported here: frozen dataclasses of domain values, no wire types. Thirteen small
methods, each one IBKR capability both APIs offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.ports.broker_types import (
    Accepted,
    AccountSummary,
    BracketLeg,
    BrokerError,
    BrokerEvent,
    BrokerMisconfigured,
    BrokerUnavailable,
    CancelOrder,
    CommandOutcome,
    EventStream,
    ExecutionReport,
    FillEvent,
    HealthEvent,
    InstrumentNotFound,
    ModifyOrder,
    OrderEvent,
    OrderReport,
    OutcomeUnknown,
    PlaceOrder,
    PositionReport,
    Rejected,
    SessionHealth,
)

__all__ = [
    "Accepted",
    "AccountSummary",
    "BracketLeg",
    "Broker",
    "BrokerError",
    "BrokerEvent",
    "BrokerMisconfigured",
    "BrokerUnavailable",
    "CancelOrder",
    "CommandOutcome",
    "EventStream",
    "ExecutionReport",
    "FillEvent",
    "HealthEvent",
    "InstrumentNotFound",
    "ModifyOrder",
    "OrderEvent",
    "OrderReport",
    "OutcomeUnknown",
    "PlaceOrder",
    "PositionReport",
    "Rejected",
    "SessionHealth",
]


# -- the port -----------------------------------------------------------------------------


@runtime_checkable
class Broker(Protocol):
    """One IBKR connection (one account). See the module docstring for the outcome contract.

    Ordering promise of `events()`: each call opens a new subscription that sees events from
    then on; for any one order, OrderEvents arrive in the order the broker produced them and
    their `filled_quantity` never decreases; a fill may be delivered more than once (after a
    reconnect) but always with the same `execution_id`.
    """

    async def health(self) -> SessionHealth: ...

    async def resolve(self, symbol: str, *, sec_type: str = "STK",
                      exchange: str | None = None, currency: str = "USD") -> Instrument:
        """The instrument for a symbol; raises InstrumentNotFound when there is none."""
        ...

    async def quotes(self, conids: Sequence[ConId]) -> Sequence[Quote]:
        """Snapshot quotes; conids without market data are left out (never made up)."""
        ...

    async def place(self, request: PlaceOrder) -> CommandOutcome: ...

    async def modify(self, request: ModifyOrder) -> CommandOutcome: ...

    async def cancel(self, request: CancelOrder) -> CommandOutcome: ...

    async def cancel_all(self) -> CommandOutcome:
        """Cancel every working order of the account, ours or not (the kill switch).

        Accepted: every cancel was requested. OutcomeUnknown: some may not have been (e.g.
        one DELETE of many timed out). Either way completion is verified by `open_orders()`,
        never assumed from this answer.
        """
        ...

    async def order(self, client_order_id: ClientOrderId) -> OrderReport | None:
        """Today's order with this cOID in any state; None only if definitively absent."""
        ...

    async def open_orders(self) -> Sequence[OrderReport]:
        """Every working order of the account, including external ones."""
        ...

    async def executions(self, since: datetime) -> Sequence[ExecutionReport]: ...

    async def positions(self) -> Sequence[PositionReport]: ...

    async def account(self) -> AccountSummary: ...

    def events(self) -> EventStream:
        """Subscribe now; iterate for events from this moment on; `aclose()` to stop."""
        ...
