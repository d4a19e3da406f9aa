"""A ``SessionSource`` for brokers without a session keeper (the TWS socket backend).

The watchdog's health model, alerts and daily-reset planning are useful for every backend;
only the Web API has a session to repair. For the others this adapter reads the Broker
port's ``health()`` and maps it onto the keeper's states; ``repair`` does nothing (the TWS
adapter reconnects by itself).
"""

from __future__ import annotations

from datetime import UTC, datetime

from catalyst_ibkr.adapters.webapi.session import Health, HealthState
from catalyst_ibkr.ports.broker import Broker, BrokerError

__all__ = ["BrokerSessionSource"]


class BrokerSessionSource:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._health = Health(HealthState.UNKNOWN, since=datetime.now(UTC))

    @property
    def health(self) -> Health:
        return self._health

    async def check(self, *, repair: bool = True) -> Health:
        now = datetime.now(UTC)
        try:
            port = await self._broker.health()
        except BrokerError as exc:
            state, detail = HealthState.GATEWAY_DOWN, str(exc) or type(exc).__name__
            connected = authenticated = competing = False
        else:
            connected, authenticated, competing = (
                port.connected,
                port.authenticated,
                port.competing,
            )
            detail = port.detail
            if competing:
                state = HealthState.COMPETING
            elif port.ok:
                state = HealthState.HEALTHY
            elif not connected:
                state = HealthState.GATEWAY_DOWN
            else:
                state = HealthState.NOT_AUTHENTICATED
        previous = self._health
        self._health = Health(
            state=state,
            since=previous.since if state is previous.state else now,
            checked_at=now,
            last_ok_at=now if state is HealthState.HEALTHY else previous.last_ok_at,
            last_tickle_at=previous.last_tickle_at,
            detail=detail,
            connected=connected,
            authenticated=authenticated,
            competing=competing,
        )
        return self._health
