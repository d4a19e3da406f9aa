"""Models used for the OpenAPI document (what /docs shows and Schemathesis fuzzes).

Bodies are decoded by `body.py` (Decimal numbers) and validated by the core, not by these
models: they describe the wire format, the core decides what is acceptable. Numbers that
are money or quantities may be sent as JSON numbers or decimal strings; answers always use
decimal strings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ModifyBody",
    "SignalAccepted",
    "SignalBody",
    "TradingStateBody",
    "request_body",
]

DecimalText = str | int | float


class SignalBody(BaseModel):
    """`POST /v1/signals`. `id` is the idempotency key (letters, digits, `-`, `_`, `.`)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(examples=["morning-0001"])
    symbol: str = Field(examples=["AAPL"])
    side: Literal["BUY", "SELL"]
    quantity: DecimalText = Field(examples=["10"])
    order_type: Literal["MKT", "LMT", "STP", "STP_LMT"]
    limit_price: DecimalText | None = None
    stop_price: DecimalText | None = None
    tif: Literal["DAY", "GTC", "IOC"] | None = None
    outside_rth: bool | None = None
    conid: int | None = None
    exchange: str | None = None
    currency: str | None = None
    strategy: str | None = None
    ttl_s: DecimalText | None = Field(default=None, description="Seconds; default 60.")
    take_profit: DecimalText | None = Field(default=None, description="Bracket: limit child.")
    stop_loss: DecimalText | None = Field(default=None, description="Bracket: stop child.")


class SignalAccepted(BaseModel):
    """202: the signal is journaled. Poll `url` (or watch /v1/events) for what became of it."""

    id: str
    status: str
    url: str
    reason_code: str | None = None


class ModifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: DecimalText | None = None
    limit_price: DecimalText | None = None
    stop_price: DecimalText | None = None


class TradingStateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["ACTIVE", "REDUCING", "HALTED"]


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON body that the route reads itself."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
