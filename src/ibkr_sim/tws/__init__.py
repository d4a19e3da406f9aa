"""The simulator's TWS socket view (``catalyst-ibkr sim --tws-port P``).

Speaks IB's TWS API wire protocol (text protocol, server version up to 178) on the same
engine as the Client Portal view; see docs/backends.md for what it covers and how it differs
from a real IB Gateway.
"""

from __future__ import annotations

from ibkr_sim.tws.server import TwsServer

__all__ = ["TwsServer"]
