"""Change notifications for the websocket (``sor``/``str`` topics) and the TWS view.

Listeners run synchronously, right after the change, on the thread that made it. A failing
listener is logged and skipped: one broken websocket must not stop fills for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ibkr_sim.engine.types import Execution, SimOrder

__all__ = ["EngineEvent", "EventBus", "ExecutionAdded", "Listener", "OrderChanged"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OrderChanged:
    order: SimOrder


@dataclass(frozen=True, slots=True)
class ExecutionAdded:
    execution: Execution


EngineEvent = OrderChanged | ExecutionAdded
Listener = Callable[[EngineEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; call the returned function to unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: EngineEvent) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("engine event listener failed; continuing")
