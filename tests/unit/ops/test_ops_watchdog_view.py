"""``Watchdog.view()``: readers get fresh service state without a gateway call or action."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from catalyst_ibkr.adapters.webapi.session import Health, HealthState
from catalyst_ibkr.config.sections_ops import AlertsSettings
from catalyst_ibkr.service.alerts import Alerter
from catalyst_ibkr.service.views import HealthView, RiskView
from catalyst_ibkr.service.watchdog import Phase, Watchdog


@dataclass
class FakeSession:
    checks: int = 0
    _health: Health = field(
        default_factory=lambda: Health(
            HealthState.HEALTHY, since=datetime.now(UTC), connected=True, authenticated=True
        )
    )

    @property
    def health(self) -> Health:
        return self._health

    async def check(self, *, repair: bool = True) -> Health:
        self.checks += 1
        return self._health


@dataclass
class FakeService:
    startup_complete: bool = False
    state: str = "ACTIVE"

    async def risk(self) -> RiskView:
        return RiskView(self.state, "ops", None, False, (), {}, 0, 0, Decimal(0), Decimal(0),
                        Decimal(0))

    async def health(self, *, ready: bool) -> HealthView:
        return HealthView(True, self.startup_complete, self.startup_complete, True, True, "",
                          self.state, (), None)


async def test_view_refreshes_service_state_without_checking_the_gateway() -> None:
    session, service = FakeSession(), FakeService()
    watchdog = Watchdog(session, Alerter(AlertsSettings()), service=service)
    assert (await watchdog.view()).phase is Phase.STARTING  # nothing checked yet
    first = await watchdog.step()
    assert first.reconciliation_state == "pending" and session.checks == 1
    service.startup_complete, service.state = True, "HALTED"
    seen = await watchdog.view()
    assert seen.reconciliation_state == "complete" and seen.operator_state == "HALTED"
    assert seen.checked_at == first.checked_at and seen.phase is Phase.HEALTHY
    assert session.checks == 1
