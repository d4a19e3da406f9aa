"""One request to the gateway: pace, send, classify; the only place httpx is called.

Why it is separate from ``endpoints.py``: the rules for *whether* a request may be retried
and *what* a failure means live in one loop, so no endpoint method can get them wrong:

- ``CallKind.READ``  idempotent (GETs and harmless POSTs such as auth/status, tickle,
  what-if, question suppression). Retried on transport errors (bounded, with backoff), and
  once after a 401 if the session keeper re-established the session, and once after
  "Please query /accounts first" (after the warm-up call).
- ``CallKind.ONCE``  has an effect but no order in it (ssodh/init, logout): sent once,
  failures raised as they are.
- ``CallKind.ORDER`` place / reply / modify / cancel. Sent exactly once. If the request
  provably never left (connection refused, TLS failure) the transport error is raised
  (safe to retry with the same cOID); anything after sending that is not a definitive
  answer (timeout, dropped connection, 429, 5xx, unparseable body) raises
  ``OutcomeUnknown`` carrying the cOID.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

from .errors import (
    AccountsNotQueried,
    GatewayHttpError,
    NoBridge,
    NotAuthenticated,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    ProtocolError,
    TlsError,
    TransportError,
    WebApiError,
    translate_transport,
)
from .pacing import Clock, PacingGovernor, Priority, SystemClock

__all__ = ["CallKind", "ClientSettings", "Transport", "error_text"]

_USER_AGENT = "catalyst-ibkr/0.1"


class CallKind(Enum):
    READ = "read"
    ONCE = "once"
    ORDER = "order"


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts and retry budget (seconds of real time; IBKR answers at its own pace)."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    order_timeout_s: float = 30.0
    read_retries: int = 2
    retry_backoff_s: float = 0.5


@dataclass(frozen=True)
class Call:
    """What the caller knows about one request, for retry policy and error messages."""

    method: str
    path: str
    priority: Priority
    kind: CallKind
    params: Mapping[str, str] | None = None
    body: Any = None
    operation: str = ""
    coid: str | None = None
    order_id: str | None = None
    recover: bool = True
    timeout_s: float | None = None


def error_text(payload: Any, raw: str) -> str:
    """IBKR's error string: ``{"error": ...}`` (sometimes nested JSON), or a non-JSON body.

    A JSON body without a top-level ``error`` has no error text, even if a nested field
    says one (``/tickle`` normally carries ``"hmds": {"error": "no bridge"}``).
    """
    if isinstance(payload, dict):
        err = payload.get("error")
        if not isinstance(err, str):
            return ""
        try:
            inner = json.loads(err)
        except ValueError:
            return err
        if isinstance(inner, dict) and isinstance(inner.get("reason"), str):
            return str(inner["reason"])
        return err
    if payload is None:
        return raw.strip()
    return ""


def _decode(response: httpx.Response) -> tuple[Any, str]:
    raw = response.text
    if not raw.strip():
        return None, raw
    return json.loads(raw), raw


class Transport:
    """Sends ``Call``s through the governor and turns every failure into our tree."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        governor: PacingGovernor,
        *,
        settings: ClientSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.http = http
        self.governor = governor
        self.settings = settings or ClientSettings()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._answered = False
        #: set by the session keeper: re-establish the session, True if it worked
        self.on_unauthorized: Callable[[], Awaitable[bool]] | None = None
        #: set by the client: the /iserver/accounts warm-up
        self.on_accounts_first: Callable[[], Awaitable[None]] | None = None
        #: set by the broker: held around every request, so that while an order question is
        #: pending nothing else reaches the gateway (IBKR discards the question otherwise)
        #: and a question is not asked while another request is still in flight
        self.send_guard: Callable[[Call], AbstractAsyncContextManager[None]] | None = None

    async def call(self, call: Call) -> Any:
        """Send ``call`` and return the decoded JSON body (None for an empty body)."""
        transport_failures = 0
        recovered = False
        warmed = False
        while True:
            try:
                return await self._once(call)
            except TransportError as exc:
                if (
                    call.kind is not CallKind.READ
                    or isinstance(exc, TlsError)
                    or transport_failures >= self.settings.read_retries
                ):
                    raise
                transport_failures += 1
                await self._clock.sleep(self.settings.retry_backoff_s * transport_failures)
            except NotAuthenticated:
                hook = self.on_unauthorized
                if call.kind is not CallKind.READ or not call.recover or recovered or not hook:
                    raise
                recovered = True
                if not await hook():
                    raise
            except AccountsNotQueried:
                warm = self.on_accounts_first
                if call.kind is not CallKind.READ or warmed or warm is None:
                    raise
                warmed = True
                await warm()

    async def _once(self, call: Call) -> Any:
        timeout_s = call.timeout_s or (
            self.settings.order_timeout_s
            if call.kind is CallKind.ORDER
            else self.settings.read_timeout_s
        )
        timeout = httpx.Timeout(timeout_s, connect=self.settings.connect_timeout_s)
        kwargs: dict[str, Any] = {"params": call.params, "timeout": timeout}
        if call.body is not None:
            kwargs["json"] = call.body
        elif call.method in ("POST", "PUT", "PATCH"):
            kwargs["content"] = b""  # IBKR answers 411 to a POST without Content-Length
        # the guard is entered inside the slot: waiting there only leaves a granted slot
        # unused, which can never exceed a limit
        guard = self.send_guard(call) if self.send_guard is not None else nullcontext()
        async with self.governor.slot(call.method, call.path, call.priority), guard:
            try:
                response = await self.http.request(
                    call.method, call.path, headers={"User-Agent": _USER_AGENT}, **kwargs
                )
            except httpx.TransportError as exc:
                mapped = translate_transport(
                    exc, method=call.method, path=call.path, seen_before=self._answered
                )
                if call.kind is CallKind.ORDER and not mapped.nothing_sent:
                    raise self._unknown(call, mapped.message) from exc
                raise mapped from exc
            except httpx.RequestError as exc:  # after the answer began: decoding, redirects
                if call.kind is CallKind.ORDER:
                    raise self._unknown(call, f"unreadable answer ({type(exc).__name__})") from exc
                raise ProtocolError(
                    f"the gateway's answer to {call.method} {call.path} could not be read "
                    f"({type(exc).__name__})"
                ) from exc
        self._answered = True
        return self._classify(call, response)

    def _unknown(self, call: Call, reason: str) -> OutcomeUnknown:
        return OutcomeUnknown(
            call.operation or f"{call.method} {call.path}",
            reason,
            coid=call.coid,
            order_id=call.order_id,
        )

    def _classify(self, call: Call, response: httpx.Response) -> Any:
        status = response.status_code
        is_order = call.kind is CallKind.ORDER
        try:
            payload, raw = _decode(response)
        except ValueError as exc:
            if status < 400:
                if is_order:
                    raise self._unknown(call, f"unparseable {status} answer") from exc
                raise ProtocolError(
                    f"the gateway answered {call.method} {call.path} with a body that is not JSON"
                ) from exc
            payload, raw = None, response.text
        text = error_text(payload, raw)
        lowered = text.lower()
        if status == 429:
            limited = self.governor.penalize(call.method, call.path)
            if is_order:
                raise self._unknown(call, "IBKR answered 429 (rate limited)") from limited
            raise limited
        if is_order and "reply id not found" in lowered:
            # The question may have been answered already, or the order discarded: unknown.
            raise self._unknown(call, "IBKR: reply id not found")
        definitive = self._definitive_error(call, status, text, lowered)
        if definitive is not None:
            raise definitive
        if status < 300:
            return payload
        if is_order:
            if status == 400:
                raise OrderRejected(text or "400 Bad Request", coid=call.coid)
            raise self._unknown(call, f"the gateway answered {status}")
        if status == 503 and "not found" in lowered:
            raise OrderNotFound(status, call.path, text)
        raise GatewayHttpError(status, call.path, text if payload is not None else "")

    def _definitive_error(
        self, call: Call, status: int, text: str, lowered: str
    ) -> WebApiError | None:
        """Errors that mean "not processed" whatever the status or kind of call."""
        if "no bridge" in lowered:
            return NoBridge(f"the brokerage bridge is not open ({call.path})")
        if "query /accounts first" in lowered or "query /iserver/accounts" in lowered:
            return AccountsNotQueried(f"the gateway wants /iserver/accounts first ({call.path})")
        if status == 401 or (status < 300 and lowered in {"no session", "not authenticated"}):
            return NotAuthenticated(f"the gateway answered 401 for {call.path}")
        return None
