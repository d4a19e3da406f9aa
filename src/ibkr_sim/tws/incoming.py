"""Client -> server messages the fake understands, parsed into small values.

Index positions come from ../shared/ibkr/tws.md §2 ("Incoming"); both ib_async and IB's own
client write the same leading fields. ``placeOrder`` carries ~90 more fields after
``hidden``; the simulator's engine has no use for them, so they are not read (which is why
what-if orders are not supported: see docs/backends.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from ibkr_sim.universe import Instrument, Universe

__all__ = [
    "ContractQuery",
    "PlaceRequest",
    "parse_contract",
    "parse_exec_time",
    "parse_place",
    "resolve",
]

#: TWS's "no value" doubles and ints, as some clients write them instead of an empty field.
_UNSET = {"1.7976931348623157E308", "1.7976931348623157e+308", "2147483647",
          "9223372036854775807"}
_ORDER_TYPES = {"MKT": "MKT", "LMT": "LMT", "STP": "STP", "STP LMT": "STP_LMT",
                "STPLMT": "STP_LMT"}


class BadRequest(ValueError):
    """A request the fake cannot act on; the message goes back as a TWS error text."""


@dataclass(frozen=True, slots=True)
class ContractQuery:
    conid: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    order_id: int
    contract: ContractQuery
    action: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    transmit: bool
    parent_id: int
    outside_rth: bool


def _int(text: str) -> int:
    try:
        return int(text) if text and text not in _UNSET else 0
    except ValueError:
        return int(float(text))


def _decimal(text: str) -> Decimal | None:
    if not text or text in _UNSET:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise BadRequest(f"{text!r} is not a number") from exc
    return value if value.is_finite() else None


def parse_contract(fields: list[str], start: int) -> ContractQuery:
    """The 12 contract fields clients send, starting at ``fields[start]`` (the conId)."""
    f = fields[start : start + 12]
    if len(f) < 12:
        raise BadRequest("contract fields are missing")
    return ContractQuery(
        conid=_int(f[0]), symbol=f[1].strip(), sec_type=f[2] or "STK", exchange=f[7],
        primary_exchange=f[8], currency=f[9] or "USD",
    )


def resolve(universe: Universe, query: ContractQuery) -> list[Instrument]:
    """What IB would match: by conId if given, else by symbol, type, currency, exchange."""
    if query.sec_type not in ("STK", ""):
        return []
    if query.conid > 0:
        inst = universe.by_conid(query.conid)
        return [inst] if inst is not None and inst.currency == query.currency else []
    if not query.symbol:
        return []
    found = [i for i in universe.by_symbol(query.symbol) if i.currency == query.currency]
    if query.primary_exchange:
        found = [i for i in found if i.listing_exchange == query.primary_exchange]
    return found


def parse_place(fields: list[str]) -> PlaceRequest:
    if len(fields) < 35:
        raise BadRequest("placeOrder message is too short")
    order_type = _ORDER_TYPES.get(fields[18].upper())
    if order_type is None:
        raise BadRequest(f"order type {fields[18]!r} is not supported by the simulator")
    quantity = _decimal(fields[17])
    if quantity is None:
        raise BadRequest("the order size is missing")
    return PlaceRequest(
        order_id=_int(fields[1]),
        contract=parse_contract(fields, 2),
        action=fields[16].upper(),
        quantity=quantity,
        order_type=order_type,
        limit_price=_decimal(fields[19]),
        aux_price=_decimal(fields[20]),
        tif=fields[21].upper() or "DAY",
        oca_group=fields[22],
        account=fields[23],
        order_ref=fields[26],
        transmit=fields[27] in ("1", "True", "true", ""),
        parent_id=_int(fields[28]),
        outside_rth=fields[33] in ("1", "True", "true"),
    )


def parse_exec_time(text: str) -> datetime | None:
    """reqExecutions' filter time: ``yyyymmdd hh:mm:ss`` with an optional zone suffix,
    or ``yyyymmdd-hh:mm:ss`` (UTC); naive means UTC here (the sim's clock zone)."""
    text = text.strip()
    if not text:
        return None
    zone: ZoneInfo | None = None
    if "-" in text[:9]:
        date_part, _, time_part = text.partition("-")
    else:
        parts = text.split()
        date_part, time_part = parts[0], parts[1] if len(parts) > 1 else "00:00:00"
        if len(parts) > 2:
            try:
                zone = ZoneInfo(parts[2])
            except (KeyError, ValueError):
                zone = None
    try:
        naive = datetime.strptime(date_part + time_part, "%Y%m%d%H:%M:%S")
    except ValueError:
        return None
    return naive.replace(tzinfo=zone or UTC).astimezone(UTC)
