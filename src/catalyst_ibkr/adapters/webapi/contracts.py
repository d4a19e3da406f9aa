"""Symbol -> conid resolution for the Web API broker: batched, cached per gateway identity.

Why a cache keyed by identity: a conid is IBKR's name for one contract and never changes,
so asking again is wasted pacing budget (``quote`` of 500 symbols would otherwise spend
five extra requests). But the simulator's conids are only the simulator's: the key is the
gateway address plus the account, so an entry learnt from ``https://127.0.0.1:5001`` as
``DU1234567`` can never be used for another gateway or account.

Resolution is batched through ``/trsrv/stocks`` (many symbols per request, no brokerage
session needed). IBKR documents no limit on how many symbols one request may name (cpapi.md
§4.3; §7 lists a 200-conid cap for ``/trsrv/secdef`` only), so a batch is bounded by the
one limit that does exist: the length of the request line. The gateway is a Vert.x server
(its ``vertx.jks`` certificate), whose default maximum initial line is 4,096 bytes; we keep
the encoded ``symbols`` value under ``QUERY_BUDGET`` bytes (commas travel as ``%2C``), which
holds the whole S&P 500 (~3,100 bytes) in one request.

A symbol with several candidate listings is an error that lists them rather than a guess:
trading the wrong line of a dual-listed stock is not recoverable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.instruments import Instrument, validate_symbol
from catalyst_ibkr.ports.broker import BrokerError, InstrumentNotFound

from .parse import StockCandidate

__all__ = [
    "AmbiguousSymbol",
    "ConidCache",
    "GatewayIdentity",
    "choose_candidate",
    "resolve_symbols",
    "symbol_batches",
]

#: bytes of the URL-encoded ``symbols`` value per /trsrv/stocks request: under the gateway's
#: 4,096-byte request line with room for the path, ``HTTP/1.1`` and a long hostname
QUERY_BUDGET = 3500
_SEPARATOR_BYTES = len("%2C")


def symbol_batches(symbols: Sequence[str], budget: int = QUERY_BUDGET) -> list[list[str]]:
    """Split symbols into as few /trsrv/stocks requests as the request line allows."""
    batches: list[list[str]] = []
    current: list[str] = []
    used = 0
    for symbol in symbols:
        cost = len(quote(symbol, safe="")) + (_SEPARATOR_BYTES if current else 0)
        if current and used + cost > budget:
            batches.append(current)
            current, used = [], 0
            cost = len(quote(symbol, safe=""))
        current.append(symbol)
        used += cost
    if current:
        batches.append(current)
    return batches


class AmbiguousSymbol(BrokerError):
    """More than one contract matches; the caller must say which (exchange or conid)."""

    def __init__(self, symbol: str, candidates: Sequence[StockCandidate]) -> None:
        self.symbol = symbol
        self.candidates = tuple(candidates)
        listed = "; ".join(
            f"conid {c.conid} {c.name or ''} on {c.exchange or '?'}".replace("  ", " ")
            for c in self.candidates
        )
        super().__init__(
            f"{symbol!r} matches {len(self.candidates)} contracts: {listed}. "
            "Name the exchange (e.g. --exchange NASDAQ in code: resolve(symbol, exchange=...))"
        )


@dataclass(frozen=True, slots=True)
class GatewayIdentity:
    """Which gateway and account a conid was learnt from."""

    gateway: str  # scheme://host:port as configured
    account: str


class ConidCache:
    """In-memory conids, one namespace per ``GatewayIdentity``."""

    def __init__(self) -> None:
        self._entries: dict[GatewayIdentity, dict[tuple[str, str | None], Instrument]] = {}

    def get(
        self, identity: GatewayIdentity, symbol: str, exchange: str | None
    ) -> Instrument | None:
        return self._entries.get(identity, {}).get((symbol, exchange))

    def put(
        self, identity: GatewayIdentity, symbol: str, exchange: str | None, value: Instrument
    ) -> None:
        self._entries.setdefault(identity, {})[(symbol, exchange)] = value


def choose_candidate(
    symbol: str, candidates: Sequence[StockCandidate], *, exchange: str | None, currency: str
) -> StockCandidate:
    """The one listing meant, or InstrumentNotFound / AmbiguousSymbol.

    USD means a US listing (IBKR's ``isUS``); an exchange narrows further. Identical conids
    (one contract listed under two issuer rows) count once.
    """
    pool = list(candidates)
    if currency.upper() == "USD":
        us = [c for c in pool if c.is_us is True]
        pool = us or [c for c in pool if c.is_us is None]
    if exchange is not None:
        wanted = exchange.upper()
        pool = [c for c in pool if (c.exchange or "").upper() == wanted]
    unique = list({c.conid: c for c in pool}.values())
    if not unique:
        where = f" on {exchange}" if exchange else ""
        raise InstrumentNotFound(symbol, f"IBKR lists no {currency} stock{where}")
    if len(unique) > 1:
        raise AmbiguousSymbol(symbol, unique)
    return unique[0]


async def resolve_symbols(
    symbols: Sequence[str],
    fetch: Callable[[Sequence[str]], Awaitable[Mapping[str, Sequence[StockCandidate]]]],
    *,
    cache: ConidCache,
    identity: GatewayIdentity,
    exchange: str | None = None,
    currency: str = "USD",
) -> dict[str, Instrument | BrokerError]:
    """Resolve many symbols with as few requests as the cache allows.

    Returns one entry per (upper-cased) symbol: the Instrument, or the error for that
    symbol, so one unknown ticker does not fail a whole batch.
    """
    out: dict[str, Instrument | BrokerError] = {}
    wanted: list[str] = []
    for raw in symbols:
        symbol = validate_symbol(raw)
        hit = cache.get(identity, symbol, exchange)
        if hit is not None:
            out[symbol] = hit
        elif symbol not in wanted:
            wanted.append(symbol)
    for chunk in symbol_batches(wanted):
        found = await fetch(chunk)
        for symbol in chunk:
            try:
                pick = choose_candidate(
                    symbol, found.get(symbol, ()), exchange=exchange, currency=currency
                )
            except BrokerError as exc:
                out[symbol] = exc
                continue
            instrument = Instrument(
                conid=ConId(pick.conid),
                symbol=symbol,
                exchange="SMART",
                currency=currency.upper(),
            )
            cache.put(identity, symbol, exchange, instrument)
            out[symbol] = instrument
    return out
