"""Building a TWS broker from what a user types: ``--gateway tws://HOST:PORT --client-id N``.

The CLI and the service call this; it validates before any socket opens, so a typo gets a
message that says what to fix rather than a connection error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from catalyst_ibkr.adapters.tws.broker import TwsBroker
from catalyst_ibkr.adapters.tws.connection import TwsSettings

__all__ = ["is_tws_url", "make_tws_broker", "open_tws_broker", "parse_tws_url"]


def is_tws_url(url: str) -> bool:
    return url.strip().lower().startswith("tws://")


def parse_tws_url(url: str) -> tuple[str, int]:
    """``tws://host:port`` -> (host, port); ValueError naming the problem otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "tws":
        raise ValueError(f"{url!r} is not a TWS address; use tws://HOST:PORT "
                         "(IB Gateway paper: 4002, live: 4001; TWS: 7497/7496)")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host; use tws://HOST:PORT")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == 0:
        raise ValueError(f"{url!r} needs a port 1..65535, e.g. tws://127.0.0.1:4002")
    if parts.path not in ("", "/") or parts.query or parts.username:
        raise ValueError(f"{url!r}: a TWS address is only tws://HOST:PORT")
    return parts.hostname, port


def make_tws_broker(url: str, client_id: int = 1, *, account: str | None = None,
                    **settings: Any) -> TwsBroker:
    """A TwsBroker for ``url`` (not yet connected: ``await broker.start()``).

    ``settings`` are further :class:`TwsSettings` fields (timeouts, backoff, pacing).
    """
    host, port = parse_tws_url(url)
    return TwsBroker(TwsSettings(host=host, port=port, client_id=client_id, account=account,
                                 **settings))


async def open_tws_broker(url: str, client_id: int = 1, *, account: str | None = None,
                          **settings: Any) -> TwsBroker:
    """``make_tws_broker`` plus the first connect (raises BrokerUnavailable with the cause)."""
    return await make_tws_broker(url, client_id, account=account, **settings).start()
