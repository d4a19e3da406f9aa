"""Event fan-out for the memory broker: one unbounded queue per subscription.

A subscription is registered when `events()` is CALLED (not when first awaited), so an event
published between subscribing and the first `async for` step is not lost; that is the
"sees events from then on" promise of the Broker port.
"""

from __future__ import annotations

import asyncio

from catalyst_ibkr.ports.broker import BrokerEvent

__all__ = ["EventHub", "Subscription"]


class Subscription:
    """An async iterator of broker events; `aclose()` ends it and unregisters it."""

    def __init__(self, hub: EventHub) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[BrokerEvent | None] = asyncio.Queue()
        self._closed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BrokerEvent:
        if self._closed:
            raise StopAsyncIteration
        event = await self._queue.get()
        if event is None:
            self._closed = True
            raise StopAsyncIteration
        return event

    def push(self, event: BrokerEvent | None) -> None:
        self._queue.put_nowait(event)

    def pending(self) -> list[BrokerEvent]:
        """Drain what is queued now without waiting (for synchronous test assertions)."""
        out: list[BrokerEvent] = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event is not None:
                out.append(event)
        return out

    async def aclose(self) -> None:
        self._closed = True
        self._hub.remove(self)


class EventHub:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self._subscriptions.append(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def publish(self, event: BrokerEvent) -> None:
        for subscription in self._subscriptions:
            subscription.push(event)

    def close_all(self) -> None:
        for subscription in self._subscriptions:
            subscription.push(None)
        self._subscriptions.clear()
