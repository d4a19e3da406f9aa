"""The core's exception tree, split by where a problem comes from.

Why one small tree: callers (the service, the CLI) must turn bad input into a 422 / exit 2
with a message a person can act on, and must never confuse that with a broker's answer or
with our own bug. So:

    DomainError                  base of everything the pure core raises on purpose
    ├── InvalidInput             a value from outside is unusable; says which field and what to fix
    ├── IllegalTransition        an order event that the state machine does not allow
    ├── OverfillError            a fill that would take an order past its quantity
    ├── FillMismatch             a fill that is not this order's (other contract/side, or an
    │                            execution id replayed with different content)
    └── UnknownBrokerStatus      a status string that no mapping table knows

``InvalidInput`` also subclasses ``ValueError`` so generic validation layers (e.g. pydantic
validators) treat it as a validation failure without knowing our types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DomainError",
    "FillMismatch",
    "IllegalTransition",
    "InvalidInput",
    "Issue",
    "OverfillError",
    "UnknownBrokerStatus",
]


class DomainError(Exception):
    """Base class for every error the core raises deliberately."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with one field: ``field`` names it, ``problem`` says what to fix."""

    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class InvalidInput(DomainError, ValueError):
    """Input that cannot be used as given. Nothing was changed when this is raised.

    Carries one or more :class:`Issue` so an API can report every field at once.
    """

    def __init__(self, field: str | Iterable[Issue], problem: str = "") -> None:
        if isinstance(field, str):
            issues: tuple[Issue, ...] = (Issue(field, problem),)
        else:
            issues = tuple(field)
            if not issues:
                raise ValueError("InvalidInput needs at least one issue")
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues))

    @property
    def field(self) -> str:
        """The first offending field (most errors have exactly one)."""
        return self.issues[0].field


class IllegalTransition(DomainError):
    """The order state machine refused an event; the order was left unchanged."""

    def __init__(self, order_ref: str, state: str, trigger: str) -> None:
        self.order_ref = order_ref
        self.state = state
        self.trigger = trigger
        super().__init__(f"order {order_ref}: {trigger} is not allowed in state {state}")


class OverfillError(DomainError):
    """A fill would make the filled quantity exceed the order quantity; it was not applied."""


class FillMismatch(DomainError):
    """A fill that cannot belong to the order it was applied to; it was not applied.

    Also raised when an execution id comes back with different content: that is a broker
    correction or a routing bug, and silently keeping either version would hide it.
    """


class UnknownBrokerStatus(DomainError):
    """A broker status string outside the mapping table.

    Raised rather than guessed: the caller keeps the order as it is, logs the raw value and
    lets reconciliation decide, instead of moving the order on a guess.
    """

    def __init__(self, api: str, value: str) -> None:
        self.api = api
        self.value = value
        super().__init__(f"unknown {api} order status {value!r}; order left unchanged")
