"""The typed sections of ``catalyst-ibkr.toml``, one frozen model per ``[section]``.

Each field's ``description`` is the documentation users see (docs/configuration.md and
``catalyst-ibkr config check`` use it); each duration carries its unit in its name (``_s``,
``_ms``). Defaults are the conservative choice: paper mode, loopback only, questions declined
unless known-harmless. ``[watchdog]`` and ``[alerts]`` live in sections_ops.py; ``[risk]``
belongs to catalyst_ibkr.core.risk (see settings.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from catalyst_ibkr.config.secrets import DatabaseUrl

__all__ = [
    "DEFAULT_CONFIRMED_QUESTIONS",
    "GatewaySettings",
    "OmsSettings",
    "PacingSettings",
    "QuestionsSettings",
    "SectionModel",
    "ServiceSettings",
]

GATEWAY_SCHEMES = ("https", "http", "tws")

#: Questions IBKR asks about ordinary orders that our own risk checks already cover
#: (price/percentage constraint, no market data, marketable, market/stop order risks, cap
#: price). o383 (size limit) and o451 (value limit) are the account's own fences: declined.
DEFAULT_CONFIRMED_QUESTIONS: tuple[str, ...] = (
    "o163",
    "o354",
    "o403",
    "o10151",
    "o10152",
    "o10153",
    "o10331",
)

_QUESTION_ID = re.compile(r"^[a-z]{1,2}[0-9]{1,6}$")
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9]{2,32}$")


class SectionModel(BaseModel):
    """Frozen, closed (unknown keys are errors), and no NaN/Infinity anywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def check_gateway_url(url: str) -> str:
    """Accept ``https://``, ``http://`` or ``tws://host:port``; say what is wrong otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in GATEWAY_SCHEMES:
        raise ValueError(
            f"gateway URL {url!r} must start with https://, http:// or tws:// "
            "(e.g. https://localhost:5000 or tws://127.0.0.1:4002)"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"gateway URL {url!r} has an invalid port") from exc
    if not parts.hostname:
        raise ValueError(f"gateway URL {url!r} has no host")
    if parts.scheme == "tws" and port is None:
        raise ValueError(f"gateway URL {url!r} needs a port (IB Gateway paper is usually 4002)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"gateway URL {url!r} must be just scheme://host:port")
    return url


class GatewaySettings(SectionModel):
    """Where the IBKR gateway is and which account we act on."""

    url: str = Field(
        default="https://localhost:5000",
        description=(
            "Gateway URL: https://host:port or http://host:port (Client Portal Gateway, e.g. "
            "IBeam) or tws://host:port (IB Gateway / TWS socket API). Falls back to IBEAM_URL, "
            "then https://localhost:5000."
        ),
    )
    account: str | None = Field(
        default=None,
        description=(
            "IBKR account id to trade (e.g. DU1234567 for paper). Unset: the gateway's only "
            'account; a live (non-DU/DF) id is needed for mode = "live".'
        ),
    )
    ca_file: Path | None = Field(
        default=None,
        description="CA bundle or certificate (PEM) to verify the gateway's TLS certificate.",
    )
    pin_store: Path = Field(
        default=Path("~/.config/catalyst-ibkr/pins.json"),
        description=(
            "File holding gateway certificate fingerprints pinned by `catalyst-ibkr gateway "
            "pin`. Default: $XDG_CONFIG_HOME/catalyst-ibkr/pins.json."
        ),
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Timeout for one gateway request, in seconds."
    )
    order_timeout_s: float = Field(
        default=30.0, gt=0, le=300,
        description=(
            "How long to wait for IBKR's answer to an order, reply, modify or cancel before "
            "its outcome counts as unknown (then it is looked up by cOID, never resent)."
        ),
    )
    mode: Literal["paper", "live"] = Field(
        default="paper",
        description=(
            "paper or live. live needs an explicit live account id; mode and account must "
            "agree or nothing is sent."
        ),
    )
    client_id: int = Field(
        default=1, ge=0, le=2_147_483_647, description="TWS API client id (tws:// gateways only)."
    )
    tickle_interval_s: float = Field(
        default=60.0,
        gt=0,
        le=290,
        description=(
            "How often the session keeper tickles the gateway, in seconds (IBKR drops a "
            "session after about 5-6 idle minutes)."
        ),
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_gateway_url(value)

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT_ID.match(value):
            raise ValueError(
                f"account id {value!r} should be letters and digits only, like DU1234567"
            )
        return value


class PacingSettings(SectionModel):
    """How close we run to IBKR's request limits (interfaces: Time; cpapi notes §7)."""

    safety_margin: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="Fraction of each IBKR rate limit we allow ourselves (0.95 = 95%).",
    )
    guard_ms: int = Field(
        default=50,
        ge=0,
        le=10_000,
        description="Extra spacing added to every pacing window, in ms.",
    )
    time_scale: float = Field(
        default=1.0,
        gt=0,
        le=100_000,
        description=(
            "TEST ONLY: divides every IBKR duration (windows, penalty box) to match a "
            "simulator run with --time-scale. Refused unless 1.0 with a live mode or account."
        ),
    )
    penalty_s: float = Field(
        default=900.0,
        gt=0,
        description="How long a scope stays silent after a 429 (IBKR's penalty box), in seconds.",
    )
    state_dir: Path = Field(
        default=Path("~/.local/state/catalyst-ibkr"),
        description=(
            "Directory for the pacing state shared by every process on this machine. "
            "Default: $XDG_STATE_HOME/catalyst-ibkr."
        ),
    )


class QuestionsSettings(SectionModel):
    """Which IBKR order questions ("Are you sure…?") we answer yes; all others are declined."""

    confirm: tuple[str, ...] = Field(
        default=DEFAULT_CONFIRMED_QUESTIONS,
        description=(
            "Message ids answered with confirmed=true (e.g. o163). Any other question is "
            "declined and the order rejected with IBKR's message."
        ),
    )
    suppress: bool = Field(
        default=True,
        description=(
            "Suppress the confirmed ids once per brokerage session, just before its first "
            "order (/iserver/questions/suppress), so they are not asked at all; a session "
            "that never orders never sends it."
        ),
    )

    @field_validator("confirm")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not _QUESTION_ID.match(item):
                raise ValueError(
                    f"question id {item!r} is not an IBKR message id like 'o163' or 'p12'"
                )
        return tuple(dict.fromkeys(value))


class OmsSettings(SectionModel):
    """The order journal and how in-doubt orders are resolved."""

    db_url: DatabaseUrl = Field(
        default=DatabaseUrl("sqlite:///./catalyst-ibkr.db"),
        description=(
            "SQLAlchemy URL of the journal: sqlite:///PATH or postgresql+psycopg://... "
            "(the password is masked everywhere)."
        ),
    )
    in_doubt_budget_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "How long an order whose outcome is unknown is looked for before it is "
            "escalated (alert + hold), in seconds. It is never resent blindly."
        ),
    )
    in_doubt_poll_s: float = Field(
        default=2.0,
        gt=0,
        le=600,
        description="Spacing of lookups for an in-doubt order, in seconds.",
    )
    reconcile_interval_s: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="Periodic reconciliation of orders and positions with IBKR, in seconds.",
    )
    default_ttl_s: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="A signal's time to live when it has no ttl_s; unsent after it: EXPIRED.",
    )

    @field_validator("db_url")
    @classmethod
    def _db_url(cls, value: DatabaseUrl) -> DatabaseUrl:
        scheme = urlsplit(value.get_secret_value()).scheme
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ValueError(
                f"database URL must be sqlite:///PATH or postgresql+psycopg://..., "
                f"got scheme {scheme!r}"
            )
        return value


class ServiceSettings(SectionModel):
    """The HTTP service (`catalyst-ibkr serve`)."""

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Address to bind. Non-loopback addresses need both keys set.",
    )
    port: int = Field(default=8080, ge=1, le=65_535, description="TCP port to bind.")
    api_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key for signals and reads (Authorization: Bearer KEY). Prefer env "
            "CATALYST_API_KEY over the file."
        ),
    )
    admin_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key for risk state, cancel-all and kill. Prefer env CATALYST_ADMIN_KEY over the file."
        ),
    )
