"""Reading request bodies: JSON numbers as Decimal, NaN/Infinity refused, sizes bounded.

Why not let pydantic parse the body: the core refuses floats (a float has already lost the
decimal the client meant), so the raw text is decoded here with `parse_float=Decimal`, and
every problem becomes an `InvalidInput` that the 422 handler reports field by field.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from fastapi import Request

from catalyst_ibkr.api.encode import jsonable
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.signals import DEFAULT_TTL_S, SIGNAL_FIELDS, Signal

__all__ = ["MAX_BODY_BYTES", "BodyTooLarge", "read_json_object", "signal_fingerprint"]

#: A signal is a few hundred bytes; anything near this is not a signal.
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The body is larger than MAX_BODY_BYTES (answered 413)."""


def _no_constants(name: str) -> Any:
    raise InvalidInput("body", f"{name} is not a number; send a finite decimal like \"101.25\"")


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object with Decimal numbers, or InvalidInput saying what is wrong."""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge
    if not raw.strip():
        raise InvalidInput("body", "is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except InvalidInput:
        raise
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError, bad UTF-8 and over-long integers are all ValueErrors.
        raise InvalidInput("body", f"is not valid JSON ({_short(exc)})") from None
    if not isinstance(value, dict):
        raise InvalidInput("body", "must be a JSON object")
    return value


async def read_json_object(request: Request) -> dict[str, Any]:
    """Read and decode the request body (see `decode_json_object`)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return decode_json_object(b"".join(chunks))


def signal_fingerprint(signal: Signal, *, ttl_s_sent: bool = True) -> str:
    """What "the same body" means for idempotency: the validated signal's fields.

    Taken after validation, so `101.5` and `"101.50"` or a key order change are the same
    request, while any change of meaning (quantity, price, side...) is a different one.
    `ttl_s_sent=False`: the body sent no ttl_s, so the signal's ttl is a default (maybe
    `[oms] default_ttl_s`); it counts as the core's DEFAULT_TTL_S, so a change of that
    setting never turns a retry of the same body into a 409.
    """
    fields = {name: jsonable(_normal(getattr(signal, name))) for name in sorted(SIGNAL_FIELDS)}
    if not ttl_s_sent:
        fields["ttl_s"] = jsonable(_normal(DEFAULT_TTL_S))
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _normal(value: object) -> object:
    return value.normalize() if isinstance(value, Decimal) and value.is_finite() else value


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
