"""Prometheus metrics of the OMS, on a registry of their own (names prefixed `catalyst_`).

Why a per-service registry: tests build many services in one process; the global registry
would refuse the second one's metric names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["OmsMetrics"]


class OmsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.signals = Counter(
            "catalyst_signals_total", "Signals journaled, by first outcome", ["outcome"],
            registry=registry,
        )
        self.sends = Counter(
            "catalyst_order_sends_total", "Place requests sent to the broker, by outcome",
            ["outcome"], registry=registry,
        )
        self.fills = Counter(
            "catalyst_fills_total", "Executions journaled (replays not counted)",
            registry=registry,
        )
        self.in_doubt = Gauge(
            "catalyst_orders_in_doubt", "Orders whose send outcome is unknown", registry=registry
        )
        self.holds = Gauge(
            "catalyst_broker_holds", "Active broker-outage hold reasons (0: sending allowed)",
            registry=registry,
        )
        self.reconciliations = Counter(
            "catalyst_reconciliations_total", "Reconciliation runs, by outcome", ["outcome"],
            registry=registry,
        )
        self.alerts = Counter(
            "catalyst_alerts_total", "Alerts raised, by kind", ["kind"], registry=registry
        )
