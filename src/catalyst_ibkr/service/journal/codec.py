"""Turn domain objects into journal rows and back (JSON text with decimals as strings)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from catalyst_ibkr.core.orders import ModifyRequest
from catalyst_ibkr.core.signals import Signal

__all__ = [
    "dump_json",
    "load_json",
    "modify_from_json",
    "modify_to_json",
    "signal_from_json",
    "signal_to_json",
]

_SIGNAL_KEYS = (
    "id", "symbol", "side", "quantity", "order_type", "limit_price", "stop_price", "tif",
    "outside_rth", "conid", "exchange", "currency", "strategy", "ttl_s", "take_profit",
    "stop_loss",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def dump_json(value: Mapping[str, Any]) -> str:
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"))


def load_json(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError("journal JSON is not an object")
    return loaded


def signal_to_json(signal: Signal) -> str:
    return dump_json({key: getattr(signal, key) for key in _SIGNAL_KEYS})


def signal_from_json(text: str, received_at: Any) -> Signal:
    body = load_json(text)
    kwargs = {key: value for key, value in body.items() if value is not None}
    for key in ("quantity", "limit_price", "stop_price", "ttl_s", "take_profit", "stop_loss"):
        if key in kwargs:
            kwargs[key] = Decimal(kwargs[key])
    return Signal(received_at=received_at, **kwargs)


def modify_to_json(change: ModifyRequest | None) -> str | None:
    if change is None:
        return None
    return dump_json(
        {
            "quantity": change.quantity,
            "limit_price": change.limit_price,
            "stop_price": change.stop_price,
        }
    )


def modify_from_json(text: str | None) -> ModifyRequest | None:
    if text is None:
        return None
    body = load_json(text)
    return ModifyRequest(
        **{k: (None if v is None else Decimal(v)) for k, v in body.items()}
    )
