"""Compose the execution service from settings, a Broker and a database URL.

Why one function: the API, the CLI's `serve`/`kill` and the tests must build the service
the same way (journal, risk limits, in-doubt budgets, metrics), so none of them wires the
parts by hand.
"""

from __future__ import annotations

from catalyst_ibkr.config.settings import Settings
from catalyst_ibkr.core.clock import Clock, SystemClock
from catalyst_ibkr.ports.broker import Broker
from catalyst_ibkr.service.facade import ExecutionService

__all__ = ["build_service"]


def build_service(
    settings: Settings,
    *,
    broker: Broker,
    db_url: str,
    clock: Clock | None = None,
    dry_run: bool = False,
    run_workers: bool = True,
) -> ExecutionService:
    """The service, not yet started (`await svc.start()`).

    `dry_run`: risk and journaling as usual, but nothing is sent: allowed orders end
    REJECTED with reason "dry run". `run_workers=False` (tests) leaves the background loops
    off; tests then drive the OMS step by step with a fake clock.
    """
    from prometheus_client import CollectorRegistry

    from catalyst_ibkr.service.oms.engine import Oms

    registry = CollectorRegistry()
    oms = Oms(
        settings=settings,
        broker=broker,
        db_url=db_url,
        clock=clock if clock is not None else SystemClock(),
        dry_run=dry_run,
        run_workers=run_workers,
        registry=registry,
    )
    return ExecutionService(oms, registry)
