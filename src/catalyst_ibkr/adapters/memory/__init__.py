"""In-memory Broker with fault knobs: the fake every test and dry run can share."""

from __future__ import annotations

from catalyst_ibkr.adapters.memory.broker import (
    DEFAULT_INSTRUMENTS,
    PAPER_ACCOUNT,
    BrokerCall,
    Command,
    MemoryBroker,
)
from catalyst_ibkr.adapters.memory.venue import MemoryVenue

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "PAPER_ACCOUNT",
    "BrokerCall",
    "Command",
    "MemoryBroker",
    "MemoryVenue",
]
