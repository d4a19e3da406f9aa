"""Errors the execution service raises to its callers (the HTTP API, the CLI).

Why only three: every other failure is recorded on the signal or order (DENIED, REJECTED,
IN_DOUBT) rather than raised, because the caller cannot do anything better with it than
read it back. These three are about the request itself and map to 404 / 409 / 422.
"""

from __future__ import annotations

__all__ = ["IdempotencyConflict", "InvalidRequest", "NotFound", "ServiceError"]


class ServiceError(Exception):
    """Base of the service's own errors; the message is safe to show to a user."""


class NotFound(ServiceError):
    """No signal / order with that id (the message names what was looked for)."""

    def __init__(self, kind: str, ref: str) -> None:
        self.kind = kind
        self.ref = ref
        super().__init__(f"no {kind} {ref!r}")


class IdempotencyConflict(ServiceError):
    """The id was used before with a different body; the first one stands, nothing changed."""

    def __init__(self, signal_id: str) -> None:
        self.signal_id = signal_id
        super().__init__(
            f"signal id {signal_id!r} was already used with a different body; "
            "send the original body again or use a new id"
        )


class InvalidRequest(ServiceError):
    """The request cannot be carried out as asked; the message says what to fix."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)
