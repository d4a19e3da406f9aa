"""Identifiers as explicit types, validated at construction.

Why: a signal id, our client order id (IBKR ``cOID`` / TWS ``orderRef``), IBKR's order id and
an execution id are all "some string" on the wire; mixing them up is exactly the kind of bug
that sends an order twice or applies a fill to the wrong order. Each is a tiny ``str`` (or
``int``) subclass, so it costs nothing at runtime, serialises as the plain value, and mypy
refuses to pass one where another is expected.

``ClientOrderId.for_signal`` is deterministic: the same signal always yields the same cOID, so a
resend after a crash carries the same id and IBKR's 24 h cOID uniqueness rejects a duplicate
(reliability C25, C28).
"""

from __future__ import annotations

import hashlib
import re
from typing import Self

from catalyst_ibkr.core.errors import InvalidInput

__all__ = [
    "AccountId",
    "BrokerOrderId",
    "ClientOrderId",
    "ConId",
    "ExecutionId",
    "SignalId",
    "StrategyId",
]

# Printable ASCII without spaces: safe in headers and logs (execution ids use dots, colons...).
_TOKEN = re.compile(r"[!-~]+")
# URL-safe ("unreserved" plus ':'): a signal id is a path segment of GET /v1/signals/{id}.
_URL_SAFE = re.compile(r"[A-Za-z0-9._:~-]+")
_SAFE = re.compile(r"[A-Za-z0-9._:-]+")
_ACCOUNT = re.compile(r"[A-Za-z0-9]+")
_LEG = re.compile(r"[a-z0-9]{0,8}")

#: IBKR documents cOID as at most 64 characters, unique for 24 hours.
COID_MAX_LEN = 64


def _check_str(kind: str, value: object, pattern: re.Pattern[str], max_len: int, hint: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(kind, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidInput(kind, "must not be empty")
    if len(value) > max_len:
        raise InvalidInput(kind, f"must be at most {max_len} characters, got {len(value)}")
    if pattern.fullmatch(value) is None:
        raise InvalidInput(kind, f"{value!r} is not allowed; use {hint}")
    return value


class SignalId(str):
    """The signal's idempotency key (``id`` of ``POST /v1/signals``).

    Restricted to URL-safe characters because it is also a path segment
    (``GET /v1/signals/{id}``): an id with ``/`` or ``?`` could be stored but never read back.
    """

    __slots__ = ()
    MAX_LEN = 128

    def __new__(cls, value: str) -> Self:
        return super().__new__(
            cls,
            _check_str("id", value, _URL_SAFE, cls.MAX_LEN, "letters, digits and . _ : ~ -"),
        )


class StrategyId(str):
    """Which strategy sent a signal; used for attribution, throttles and scoped kills."""

    __slots__ = ()
    MAX_LEN = 64

    def __new__(cls, value: str) -> Self:
        return super().__new__(
            cls,
            _check_str("strategy", value, _SAFE, cls.MAX_LEN, "letters, digits and . _ : -"),
        )


class ClientOrderId(str):
    """Our id for an order, sent to IBKR as ``cOID`` (Client Portal) or ``orderRef`` (TWS)."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        return super().__new__(
            cls,
            _check_str("cOID", value, _SAFE, COID_MAX_LEN, "letters, digits and . _ : -"),
        )

    @classmethod
    def for_signal(cls, signal_id: SignalId, leg: str = "") -> ClientOrderId:
        """Derive the cOID for one leg of a signal, deterministically.

        Shape: ``<readable prefix of the signal id>-<16 hex of sha256>[-<leg>]``. The hash keeps
        two signal ids that share a long prefix (or differ only in characters we strip) apart;
        the prefix lets a person find the order in IBKR's UI. ``leg`` names a bracket child
        (e.g. ``"tp"``, ``"sl"``); empty for the parent or a plain order.
        """
        if _LEG.fullmatch(leg) is None:
            raise InvalidInput("leg", f"{leg!r} is not allowed; use up to 8 of a-z and 0-9")
        digest = hashlib.sha256(str(signal_id).encode("utf-8")).hexdigest()[:16]
        readable = re.sub(r"[^A-Za-z0-9._:-]", "_", str(signal_id))[:32]
        value = f"{readable}-{digest}"
        if leg:
            value = f"{value}-{leg}"
        return ClientOrderId(value)


class BrokerOrderId(str):
    """IBKR's order id (Client Portal ``order_id``/``orderId``, TWS ``orderId``), kept as text.

    Client Portal sends it sometimes as a string and sometimes as an int; TWS as an int. Text
    is the one form that holds both without loss.
    """

    __slots__ = ()

    def __new__(cls, value: str | int) -> Self:
        if isinstance(value, bool):
            raise InvalidInput("order_id", "must be a string or integer, got bool")
        text = str(value) if isinstance(value, int) else value
        return super().__new__(
            cls, _check_str("order_id", text, _SAFE, 64, "letters, digits and . _ : -")
        )


class ExecutionId(str):
    """IBKR's execution id (``execution_id`` / ``execId``); the key that deduplicates fills."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        return super().__new__(
            cls, _check_str("execution_id", value, _TOKEN, 128, "printable ASCII without spaces")
        )


class AccountId(str):
    """An IBKR account id such as ``DU1234567`` (paper) or ``U1234567`` (live)."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        return super().__new__(
            cls, _check_str("account", value, _ACCOUNT, 32, "letters and digits, e.g. DU1234567")
        )

    @property
    def is_paper(self) -> bool:
        """IBKR paper accounts start with ``DU`` (live ones with ``U``); used by the interlock."""
        return self.startswith("DU")


class ConId(int):
    """IBKR's contract id: a positive integer that names one instrument unambiguously."""

    __slots__ = ()

    def __new__(cls, value: int | str) -> Self:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InvalidInput("conid", f"must be an integer, got {type(value).__name__}")
        if isinstance(value, str):
            if not value.isascii() or not value.isdigit():
                raise InvalidInput("conid", f"{value!r} is not a positive integer")
            value = int(value)
        if value <= 0:
            raise InvalidInput("conid", f"must be a positive integer, got {value}")
        return super().__new__(cls, value)
