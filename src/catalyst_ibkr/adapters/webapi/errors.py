"""One exception tree for the Client Portal Web API side, split by *where* it failed.

Callers decide what to do from the branch, not from message text::

    WebApiError                       every error of this adapter; .hint says what to do,
    │                                 .exit_code is the CLI exit code (docs: interfaces.md)
    ├── TransportError                the request did not get an HTTP answer        (exit 4)
    │   ├── GatewayUnreachable        connection refused / DNS / no route: NOTHING was sent
    │   │   └── GatewayStarting       refused although it answered before: IBeam restarting
    │   ├── GatewayTimeout            sent (maybe) but no answer in time: gateway hung
    │   ├── ConnectionDropped         the connection closed before the answer arrived
    │   └── TlsError                  certificate not trusted (CA, pin) or TLS failed
    │       └── PinMismatch           presented leaf differs from the pinned fingerprint
    ├── SessionError                  the gateway answered, but the session is not usable (4)
    │   ├── NotAuthenticated          401 / authenticated:false
    │   ├── AuthenticationPending     IBeam has not (re)logged in yet / no session
    │   ├── CompetingSession          another platform holds the brokerage session
    │   ├── NoBridge                  {"error":"no bridge"}: brokerage session not opened
    │   └── AccountsNotQueried        "Please query /accounts first" (warm-up missing)
    ├── PacingError                   IBKR rate limits (cpapi.md §7)                 (4)
    │   ├── RateLimited               a 429 came back; the scope is now paused
    │   └── PenaltyBoxActive          refused locally: the scope is still paused
    ├── BrokerRejected                IBKR definitively said no                      (1)
    │   ├── OrderRejected             {"error": ...} on place/modify/cancel
    │   └── QuestionDeclined          an order question we declined (confirmed:false)
    ├── GatewayHttpError              an unexpected status (404, 5xx on a read, ...)  (4)
    │   └── OrderNotFound             503 "Order ... is not found"
    ├── ProtocolError                 the body could not be understood (read side)   (4)
    ├── LocalSetupError               our own machine: state file unwritable, lock   (2)
    │                                 stuck (nothing was sent)
    └── OutcomeUnknown                an order/cancel POST whose effect is unknown   (3)
                                      (timeout, dropped connection, 5xx, bad body,
                                      "reply id not found"); carries the cOID; NEVER
                                      resend: reconcile by cOID instead.

Rules kept by every raise site:
- httpx exceptions are translated at the boundary (``translate_transport``) with ``from exc``.
- No credential, cookie or session id ever enters a message: IBKR text goes through
  ``redact`` (32-hex session ids, cookies, ``USER_NAME``-style fields) and is truncated.
"""

from __future__ import annotations

import re

import httpx

__all__ = [
    "AccountsNotQueried",
    "AuthenticationPending",
    "BrokerRejected",
    "CompetingSession",
    "ConnectionDropped",
    "GatewayHttpError",
    "GatewayStarting",
    "GatewayTimeout",
    "GatewayUnreachable",
    "LocalSetupError",
    "NoBridge",
    "NotAuthenticated",
    "OrderNotFound",
    "OrderRejected",
    "OutcomeUnknown",
    "PacingError",
    "PenaltyBoxActive",
    "PinMismatch",
    "ProtocolError",
    "QuestionDeclined",
    "RateLimited",
    "SessionError",
    "TlsError",
    "TransportError",
    "WebApiError",
    "redact",
    "translate_transport",
]

EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_OUTCOME_UNKNOWN = 3
EXIT_UNAVAILABLE = 4

_MAX_TEXT = 300
_SECRET_PATTERNS = (
    re.compile(r"\b[0-9a-fA-F]{32}\b"),  # tickle `session`, WS cookie value
    re.compile(r"(?i)(cookie|set-cookie|authorization|x-sess-uuid|api)\s*[:=]\s*\S+"),
    re.compile(
        r'(?i)"?(USER_NAME|CREDENTIAL|PAPER_USER_NAME|TOKEN|session|sessionId|password)"?'
        r'\s*:\s*"[^"]*"'
    ),
)


def redact(text: str) -> str:
    """Strip anything that could be a credential, cookie or session id; cap the length.

    IBKR's own error strings are quoted to users (they are the best explanation), but a
    gateway can echo headers or session fields in an error body, so every quoted text is
    scrubbed first.
    """
    out = text
    for pattern in _SECRET_PATTERNS:
        out = pattern.sub("[redacted]", out)
    out = " ".join(out.split())
    if len(out) > _MAX_TEXT:
        out = out[: _MAX_TEXT - 1] + "…"
    return out


class WebApiError(Exception):
    """Base of every Web API adapter error.

    ``str(err)`` is "<what is wrong>. <what to do>" so a CLI can print it as is.
    """

    exit_code: int = EXIT_UNAVAILABLE
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = self.default_hint if hint is None else hint
        super().__init__(f"{message}. {self.hint}" if self.hint else message)


# -- transport ------------------------------------------------------------------------------


class TransportError(WebApiError):
    """No HTTP answer came back."""

    #: True when the request provably never left this process (safe to send again).
    nothing_sent: bool = False


class GatewayUnreachable(TransportError):
    """Connection refused, DNS failure or no route: nothing was sent."""

    nothing_sent = True
    default_hint = (
        "Check that the gateway (IBeam / Client Portal Gateway) is running and that "
        "--gateway points at it (docker ps; docker logs <ibeam container>)"
    )


class GatewayStarting(GatewayUnreachable):
    """Connection refused by a gateway that answered before: IBeam is (re)starting."""

    default_hint = (
        "IBeam is probably still starting; wait about 2 minutes and try again "
        "(docker logs <ibeam container> shows 'Client login succeeds' when ready)"
    )


class GatewayTimeout(TransportError):
    """The gateway accepted the connection but did not answer in time."""

    default_hint = (
        "The gateway is not responding; check its logs (docker logs <ibeam container>) "
        "and restart the container if it stays hung"
    )


class ConnectionDropped(TransportError):
    """The connection closed (reset, EOF) after the request went out, before an answer."""

    default_hint = (
        "The gateway dropped the connection; check its logs (docker logs <ibeam container>) "
        "and retry a read; an order sent this way must be looked up, not resent"
    )


class TlsError(TransportError):
    """The gateway's certificate is not trusted, or the TLS handshake failed."""

    nothing_sent = True
    default_hint = (
        "Trust the gateway explicitly: pin it with `catalyst-ibkr gateway pin URL` or pass "
        "--ca FILE (--insecure skips verification and is not recommended)"
    )


class PinMismatch(TlsError):
    """The presented certificate is not the one pinned for this host:port."""

    default_hint = (
        "If the gateway's certificate was deliberately replaced, re-pin it with "
        "`catalyst-ibkr gateway pin URL`; otherwise something else is answering on that "
        "address: do not proceed"
    )


# -- session --------------------------------------------------------------------------------


class SessionError(WebApiError):
    """The gateway answered but the brokerage session cannot serve the request."""


class NotAuthenticated(SessionError):
    """401 or ``authenticated: false``."""

    default_hint = (
        "The session expired or is not logged in; IBeam should re-authenticate on its own "
        "within a minute or two; if it does not, check its logs (2FA / IB Key) and "
        "`catalyst-ibkr status`"
    )


class AuthenticationPending(SessionError):
    """The gateway runs but has no session yet (IBeam still logging in)."""

    default_hint = (
        "Authentication is pending: IBeam is logging in (watch its logs for "
        "'Client login succeeds'; approve the IB Key prompt if 2FA is on), then retry"
    )


class CompetingSession(SessionError):
    """Another platform (TWS, mobile, another gateway) holds the brokerage session."""

    default_hint = (
        "Log out of the other session (TWS, IBKR Mobile, Client Portal or another "
        "gateway) or allow taking over the session in [gateway] config, then retry"
    )


class NoBridge(SessionError):
    """The brokerage bridge is not open (``{"error": "no bridge"}``)."""

    default_hint = (
        "The brokerage session is not initialised; it is re-opened automatically "
        "(ssodh/init); retry in a few seconds"
    )


class AccountsNotQueried(SessionError):
    """``Please query /accounts first``: the per-session warm-up call is missing."""

    default_hint = "Call /iserver/accounts first (the adapter does this on session start)"


# -- pacing ---------------------------------------------------------------------------------


class PacingError(WebApiError):
    """IBKR's rate limits (10 req/s global, per-endpoint limits, 429 penalty box)."""

    def __init__(self, message: str, *, scope: str, until: float, hint: str | None = None):
        self.scope = scope
        #: wall-clock epoch seconds when the scope may be used again
        self.until = until
        super().__init__(message, hint=hint)


class RateLimited(PacingError):
    """A 429 came back; the scope is paused for the penalty period."""

    default_hint = (
        "IBKR put this client in its penalty box; requests to this scope are paused "
        "locally until then; nothing needs doing except waiting (repeat violations can "
        "get the IP blocked)"
    )


class PenaltyBoxActive(PacingError):
    """Refused locally because the scope is still paused after a 429."""

    default_hint = "Wait until the pause ends; sending now would extend IBKR's penalty"


# -- broker said no -------------------------------------------------------------------------


class BrokerRejected(WebApiError):
    """A definitive answer from IBKR that it did not accept the request."""

    exit_code = EXIT_REJECTED
    default_hint = "Fix the order as IBKR's message says and send it again"

    def __init__(self, message: str, *, ibkr_text: str = "", hint: str | None = None):
        self.ibkr_text = redact(ibkr_text)
        super().__init__(message, hint=hint)


class OrderRejected(BrokerRejected):
    """``{"error": ...}`` in answer to place/modify/cancel."""

    def __init__(self, ibkr_text: str, *, coid: str | None = None, hint: str | None = None):
        self.coid = coid
        suffix = f" (cOID {coid})" if coid else ""
        super().__init__(
            f"IBKR rejected the order{suffix}: {redact(ibkr_text)}", ibkr_text=ibkr_text, hint=hint
        )


class QuestionDeclined(BrokerRejected):
    """IBKR asked a question our allow-list does not confirm; we answered no."""

    default_hint = (
        "Review IBKR's warning; to accept this kind of question add its id to "
        "[questions] in the config, or change the order"
    )

    def __init__(self, message_id: str, ibkr_text: str, *, coid: str | None = None):
        self.message_id = message_id
        self.coid = coid
        super().__init__(
            f"IBKR asked question {message_id} and it was declined: {redact(ibkr_text)}",
            ibkr_text=ibkr_text,
        )


# -- unexpected status / body ---------------------------------------------------------------


class GatewayHttpError(WebApiError):
    """An HTTP status this adapter has no better class for."""

    default_hint = "See the status and IBKR's text; retry later if it is a 5xx"

    def __init__(self, status: int, path: str, ibkr_text: str = "", *, hint: str | None = None):
        self.status = status
        self.path = path
        self.ibkr_text = redact(ibkr_text)
        text = f": {self.ibkr_text}" if self.ibkr_text else ""
        super().__init__(f"the gateway answered {status} for {path}{text}", hint=hint)


class OrderNotFound(GatewayHttpError):
    """``Order … is not found`` (IBKR answers 503 after ~5 s)."""

    default_hint = "Check the order id (`catalyst-ibkr orders` lists today's orders)"


class ProtocolError(WebApiError):
    """The gateway's answer could not be understood (not JSON, unexpected shape)."""

    default_hint = (
        "The gateway sent something this version does not understand; retry, and report "
        "it if it persists"
    )


class LocalSetupError(WebApiError):
    """A problem on this machine (pacing state file, lock); no request was sent."""

    exit_code = EXIT_USAGE
    default_hint = (
        "Check that the directory is writable, or point [pacing] state_dir somewhere "
        "writable; nothing was sent"
    )


# -- unknown outcome ------------------------------------------------------------------------


class OutcomeUnknown(WebApiError):
    """An order-changing request may or may not have taken effect.

    It is never resent automatically: the order has to be found again by its ``cOID``
    (live orders, trades) before anything else is sent for the same signal.
    """

    exit_code = EXIT_OUTCOME_UNKNOWN

    def __init__(
        self,
        operation: str,
        reason: str,
        *,
        coid: str | None = None,
        order_id: str | None = None,
    ) -> None:
        self.operation = operation
        self.reason = redact(reason)
        self.coid = coid
        self.order_id = order_id
        ident = f"cOID {coid}" if coid else (f"order {order_id}" if order_id else "request")
        lookup = (
            f"look it up with `catalyst-ibkr orders --json` (match cOID {coid})"
            if coid
            else "check `catalyst-ibkr orders` before trying again"
        )
        super().__init__(
            f"the outcome of {operation} for {ident} is unknown ({self.reason}); it was NOT resent",
            hint=f"Do not send it again blindly; {lookup}",
        )


def translate_transport(
    exc: httpx.TransportError, *, method: str, path: str, seen_before: bool = False
) -> TransportError:
    """Map an httpx transport error to our tree (the caller raises it ``from exc``).

    ``seen_before``: this client already had an answer from the gateway in this process, so
    a refused connection most likely means IBeam is restarting rather than misconfigured.
    """
    where = f"{method} {path}"
    if isinstance(exc, httpx.ConnectError) and _looks_like_tls(exc):
        return TlsError(f"TLS handshake with the gateway failed for {where}: {redact(str(exc))}")
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        cls = GatewayStarting if seen_before else GatewayUnreachable
        return cls(f"cannot connect to the gateway for {where} ({type(exc).__name__})")
    if isinstance(exc, httpx.TimeoutException):
        return GatewayTimeout(f"the gateway did not answer {where} in time")
    return ConnectionDropped(
        f"the connection to the gateway broke during {where} ({type(exc).__name__})"
    )


def _looks_like_tls(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "certificate" in text or "ssl" in text or "tls" in text
