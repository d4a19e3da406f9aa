"""The TWS socket API backend (IB Gateway / TWS, e.g. IBGA in Docker) on ib_async.

ib_async types stay inside this package; everything it hands out is a core/port type.
"""

from __future__ import annotations

from catalyst_ibkr.adapters.tws.broker import TwsBroker
from catalyst_ibkr.adapters.tws.connection import TwsSettings
from catalyst_ibkr.adapters.tws.factory import (
    is_tws_url,
    make_tws_broker,
    open_tws_broker,
    parse_tws_url,
)

__all__ = [
    "TwsBroker",
    "TwsSettings",
    "is_tws_url",
    "make_tws_broker",
    "open_tws_broker",
    "parse_tws_url",
]
