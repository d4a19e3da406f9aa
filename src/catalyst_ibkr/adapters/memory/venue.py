"""`MemoryVenue`: the venue-control helper of the Broker contract suite, for MemoryBroker.

The contract suite drives every adapter through the same small interface (move the market,
lose the next response); for the simulator-backed adapters the same methods call `/sim/*`.
"""

from __future__ import annotations

from decimal import Decimal

from catalyst_ibkr.adapters.memory.broker import Command, MemoryBroker

__all__ = ["MemoryVenue"]


class MemoryVenue:
    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    async def set_market(
        self, symbol: str, *, bid: Decimal, ask: Decimal, last: Decimal | None = None
    ) -> None:
        self.broker.set_quote(symbol, bid=bid, ask=ask, last=last)

    async def lose_next_response(self, command: Command) -> None:
        """The next `command` takes effect but its answer never arrives."""
        self.broker.unknown_next(command, landed=True)
