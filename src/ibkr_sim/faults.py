"""Faults a test injects through ``POST /sim/faults`` (interfaces.md, "Simulator").

Session faults (``expire_session``, ``competing_session``, ``daily_reset``, ``restart``) act
once, at once, on the session machine.  Request faults (``http_error``, ``latency``,
``drop_after_accept``) wait for a request whose full path (including ``/v1/api``) matches
``path`` with ``re.search`` and fire ``count`` times (default 1).  ``ws_drop``, ``ws_silence``
and ``tws_disconnect`` are validated and stored for the websocket and TWS views, which
consume them with :meth:`FaultBook.take`.  Parsing is strict: a malformed fault is refused
with a message, never half-applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["REQUEST_KINDS", "SESSION_KINDS", "STORED_KINDS", "Fault", "FaultBook", "parse_fault"]

SESSION_KINDS = frozenset({"expire_session", "competing_session", "daily_reset", "restart"})
REQUEST_KINDS = frozenset({"http_error", "latency", "drop_after_accept"})
STORED_KINDS = frozenset({"ws_drop", "ws_silence", "tws_disconnect"})
ALL_KINDS = SESSION_KINDS | REQUEST_KINDS | STORED_KINDS | {"clear"}

_ALLOWED_KEYS: dict[str, frozenset[str]] = {
    "expire_session": frozenset(),
    "competing_session": frozenset(),
    "daily_reset": frozenset(),
    "restart": frozenset({"relogin_s"}),
    "http_error": frozenset({"path", "status", "count", "body"}),
    "latency": frozenset({"path", "ms", "count"}),
    "drop_after_accept": frozenset({"path", "count"}),
    "ws_drop": frozenset({"count"}),
    "ws_silence": frozenset({"seconds", "count"}),
    "tws_disconnect": frozenset({"count", "on", "notice", "seconds"}),
    "clear": frozenset(),
}


@dataclass
class Fault:
    kind: str
    path: re.Pattern[str] | None = None
    count: int = 1
    status: int | None = None
    body: str | None = None
    ms: float | None = None
    seconds: float | None = None
    relogin_s: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "count": self.count}
        if self.path is not None:
            out["path"] = self.path.pattern
        for name in ("status", "body", "ms", "seconds", "relogin_s"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for key in ("on", "notice"):  # tws_disconnect's trigger / restore code
            if key in self.params:
                out[key] = self.params[key]
        return out


def _number(spec: dict[str, Any], key: str, *, minimum: float, integer: bool = False) -> float:
    value = spec[key]
    if isinstance(value, Decimal):
        # The control API parses JSON numbers as Decimal; a fraction like 0.5 s is fine.
        if not value.is_finite():
            raise ValueError(f"'{key}' must be a finite number, got {value}")
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"'{key}' must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise ValueError(f"'{key}' must be a whole number, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")) or value < minimum:
        raise ValueError(f"'{key}' must be >= {minimum}, got {value!r}")
    return float(value)


def parse_fault(spec: Any) -> Fault:
    """Validate a ``POST /sim/faults`` body into a ``Fault``; raise ValueError saying why not."""
    if not isinstance(spec, dict):
        raise ValueError('body must be a JSON object like {"kind": "restart"}')
    kind = spec.get("kind")
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(ALL_KINDS))}")
    unknown = set(spec) - {"kind"} - _ALLOWED_KEYS[kind]
    if unknown:
        raise ValueError(f"fault {kind!r} does not take {', '.join(sorted(unknown))}")
    fault = Fault(kind=kind, params=dict(spec))
    if "path" in spec:
        if not isinstance(spec["path"], str):
            raise ValueError("'path' must be a regular expression string")
        try:
            fault.path = re.compile(spec["path"])
        except re.error as exc:
            raise ValueError(f"'path' is not a valid regular expression: {exc}") from exc
    if "count" in spec:
        fault.count = int(_number(spec, "count", minimum=1, integer=True))
    if kind == "http_error":
        if "status" not in spec:
            raise ValueError("http_error needs 'status' (e.g. 500, 503)")
        status = int(_number(spec, "status", minimum=400, integer=True))
        if status > 599:
            raise ValueError(f"'status' must be 400..599, got {status}")
        fault.status = status
        if "body" in spec:
            if not isinstance(spec["body"], str):
                raise ValueError("'body' must be a string")
            fault.body = spec["body"]
    if kind == "latency":
        if "ms" not in spec:
            raise ValueError("latency needs 'ms' (milliseconds of real time)")
        fault.ms = _number(spec, "ms", minimum=0)
    if kind == "ws_silence":
        fault.seconds = _number(spec, "seconds", minimum=0) if "seconds" in spec else 30.0
    if kind == "tws_disconnect":
        _check_tws_disconnect(spec, fault)
    if kind == "restart" and "relogin_s" in spec:
        fault.relogin_s = _number(spec, "relogin_s", minimum=0)
    return fault


def _check_tws_disconnect(spec: dict[str, Any], fault: Fault) -> None:
    """``on``: lose the answer to the next place/modify/cancel; ``notice``: send 1100 and,
    ``seconds`` later, 1101 or 1102 instead of closing sockets (ibkr_sim/tws/server.py)."""
    on, notice = spec.get("on"), spec.get("notice")
    if on is not None and on not in ("place", "modify", "cancel"):
        raise ValueError(f"'on' must be 'place', 'modify' or 'cancel', got {on!r}")
    if notice is not None and (isinstance(notice, bool) or notice not in (1101, 1102)):
        raise ValueError(f"'notice' must be 1101 or 1102 (the restore code), got {notice!r}")
    if on is not None and notice is not None:
        raise ValueError("tws_disconnect takes either 'on' or 'notice', not both")
    if "seconds" in spec:
        if notice is None:
            raise ValueError("'seconds' only applies with 'notice'")
        seconds = spec["seconds"]
        if isinstance(seconds, Decimal):  # the control API parses JSON numbers as Decimal
            seconds = float(seconds)
        fault.seconds = _number({"seconds": seconds}, "seconds", minimum=0)


class FaultBook:
    """Pending request and stored faults; each firing uses up one of its ``count``."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind == "clear":
            self._pending.clear()
        elif fault.kind not in SESSION_KINDS:
            self._pending.append(fault)

    def clear(self) -> None:
        self._pending.clear()

    def take(self, kind: str, path: str = "") -> Fault | None:
        """The first pending fault of ``kind`` matching ``path``, with one use consumed."""
        for fault in self._pending:
            if fault.kind != kind:
                continue
            if fault.path is not None and not fault.path.search(path):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self._pending.remove(fault)
            return fault
        return None

    def take_where(self, kind: str, accept: Callable[[Fault], bool]) -> Fault | None:
        """Like ``take`` but matching on the fault's parameters (the TWS view's triggers)."""
        for fault in self._pending:
            if fault.kind == kind and accept(fault):
                fault.count -= 1
                if fault.count <= 0:
                    self._pending.remove(fault)
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [f.describe() for f in self._pending]
