"""Keep starting the broker adapter when the gateway was not usable as `serve` started.

Why: IB Gateway restarts every night and IBeam's gateway needs a login after each restart;
a service started by systemd or Docker beside it often comes up first. Exiting (code 4) then
turns a normal start order into a restart loop, and signals sent meanwhile are refused.
Instead the service starts: intake journals signals (intake never waits on the broker), the
OMS's startup barrier holds every send (its TTL keeps running, nothing is sent late), and
this task retries the adapter's start with backoff until the gateway answers. Only a wrong
adapter choice or configuration still stops the start (those never heal by waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from catalyst_ibkr.ports.broker import BrokerUnavailable

__all__ = ["GatewayWait"]

log = logging.getLogger("catalyst_ibkr.gateway")

#: first pause between tries, doubled after each failure up to the second value
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0


class GatewayWait:
    """Retries ``start`` (the adapter's own start: connect, check the session, open the
    stream) until it succeeds; ``aclose`` stops trying."""

    def __init__(self, start: Callable[[], Awaitable[object]], where: str,
                 first_failure: BrokerUnavailable, *, first_s: float = RETRY_FIRST_S,
                 max_s: float = RETRY_MAX_S) -> None:
        self._start = start
        self._where = where
        self._first_s = first_s
        self._max_s = max_s
        self.detail = first_failure.detail
        self.started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def begin(self) -> None:
        log.warning("gateway at %s not usable yet (%s); serving anyway: signals are journaled "
                    "and wait (their TTL runs), nothing is sent until it answers; retrying",
                    self._where, self.detail)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="gateway-wait")

    async def _run(self) -> None:
        delay = self._first_s
        while True:
            await asyncio.sleep(delay)
            try:
                await self._start()
            except BrokerUnavailable as exc:
                self.detail = exc.detail
                delay = min(delay * 2, self._max_s)
                log.warning("gateway at %s still not usable (%s); next try in %.0f s",
                            self._where, exc.detail, delay)
                continue
            except Exception:  # an adapter bug must not end the retries silently
                delay = min(delay * 2, self._max_s)
                log.exception("starting the broker adapter failed; next try in %.0f s", delay)
                continue
            log.info("gateway at %s answers: broker started; the OMS reconciles, then sends",
                     self._where)
            self.started.set()
            return

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
