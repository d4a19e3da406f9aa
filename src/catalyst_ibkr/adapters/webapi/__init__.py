"""The Client Portal Web API side (IBeam / Client Portal Gateway): lower layers.

Layers, each in its own module (docs/webapi.md):

- ``errors``     one exception tree, split by where a request failed
- ``tls``        CA file / pinned certificate / loud ``--insecure`` / plain http
- ``pacing``     send-time governor for IBKR's rate limits (+ ``pacing_store``: shared file)
- ``transport``  one request: pace, send, classify, retry only what is safe
- ``wire``       pydantic models of IBKR's payloads, tolerant of their type quirks
- ``endpoints``  the raw endpoint client (one async method per endpoint)
- ``parse``      pure wire -> core / port values
- ``session``    the session keeper (tickle, health, repair, 401 recovery)
- ``stack``      builds all of the above for one gateway

The Broker-port adapter (``broker.WebApiBroker``, docs/webapi-broker.md) and the CLI
commands (docs/cli.md) are built on top of these.
"""

from __future__ import annotations

from .endpoints import OrderAnswer, WebApiClient
from .errors import (
    AccountsNotQueried,
    AuthenticationPending,
    BrokerRejected,
    CompetingSession,
    ConnectionDropped,
    GatewayHttpError,
    GatewayStarting,
    GatewayTimeout,
    GatewayUnreachable,
    LocalSetupError,
    NoBridge,
    NotAuthenticated,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    PacingError,
    PenaltyBoxActive,
    PinMismatch,
    ProtocolError,
    QuestionDeclined,
    RateLimited,
    SessionError,
    TlsError,
    TransportError,
    WebApiError,
)
from .pacing import PacingGovernor, Priority
from .session import Health, HealthState, KeeperSettings, SessionKeeper
from .stack import PacingSettings, WebApiStack, open_stack
from .tls import PinStore, TlsSettings
from .transport import ClientSettings

__all__ = [
    "AccountsNotQueried",
    "AuthenticationPending",
    "BrokerRejected",
    "ClientSettings",
    "CompetingSession",
    "ConnectionDropped",
    "GatewayHttpError",
    "GatewayStarting",
    "GatewayTimeout",
    "GatewayUnreachable",
    "Health",
    "HealthState",
    "KeeperSettings",
    "LocalSetupError",
    "NoBridge",
    "NotAuthenticated",
    "OrderAnswer",
    "OrderNotFound",
    "OrderRejected",
    "OutcomeUnknown",
    "PacingError",
    "PacingGovernor",
    "PacingSettings",
    "PenaltyBoxActive",
    "PinMismatch",
    "PinStore",
    "Priority",
    "ProtocolError",
    "QuestionDeclined",
    "RateLimited",
    "SessionError",
    "SessionKeeper",
    "TlsError",
    "TlsSettings",
    "TransportError",
    "WebApiClient",
    "WebApiError",
    "WebApiStack",
    "open_stack",
]
