"""The session keeper against a scripted fake gateway (MockTransport, fake clock)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import pytest
from webapi_fakes import FakeClock

from catalyst_ibkr.adapters.webapi.endpoints import WebApiClient
from catalyst_ibkr.adapters.webapi.errors import (
    AuthenticationPending,
    CompetingSession,
    GatewayStarting,
    NotAuthenticated,
)
from catalyst_ibkr.adapters.webapi.pacing import PacingGovernor
from catalyst_ibkr.adapters.webapi.pacing_store import MemoryPacingStore, PacingState
from catalyst_ibkr.adapters.webapi.session import HealthState, KeeperSettings, SessionKeeper
from catalyst_ibkr.adapters.webapi.transport import Transport
from catalyst_ibkr.adapters.webapi.wire import OrderRequest


@dataclass
class FakeGateway:
    clock: FakeClock
    up: bool = True
    up_at: float | None = None
    has_session: bool = True
    authenticated: bool = True
    connected: bool = True
    competing: bool = False
    init_works: bool = True
    calls: list[str] = field(default_factory=list)
    init_bodies: list[dict[str, object]] = field(default_factory=list)

    def auth(self) -> dict[str, object]:
        return {
            "authenticated": self.authenticated,
            "connected": self.connected,
            "competing": self.competing,
            "serverInfo": {"serverName": "FakeSrv"},
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/api")
        if self.up_at is not None and self.clock.now >= self.up_at:
            self.up = True
        if not self.up:
            raise httpx.ConnectError("refused", request=request)
        self.calls.append(path)
        if not self.has_session:
            return httpx.Response(401, json={"error": "not authenticated", "statusCode": 401})
        if path == "/tickle":
            return httpx.Response(
                200, json={"session": "0" * 32, "iserver": {"authStatus": self.auth()}}
            )
        if path == "/iserver/auth/status":
            return httpx.Response(200, json=self.auth())
        if path == "/iserver/auth/ssodh/init":
            body = json.loads(request.content)
            self.init_bodies.append(body)
            if self.init_works and (not self.competing or body.get("compete")):
                self.authenticated, self.competing = True, False
            return httpx.Response(200, json=self.auth())
        if path == "/iserver/reauthenticate":
            self.authenticated = True
            return httpx.Response(200, json={"message": "triggered"})
        if path == "/iserver/accounts":
            return httpx.Response(200, json={"accounts": ["DU1234567"]})
        if not self.authenticated or self.competing:
            return httpx.Response(401, json={"error": "not authenticated", "statusCode": 401})
        if path == "/iserver/account/orders":
            return httpx.Response(200, json={"orders": [], "snapshot": True})
        return httpx.Response(200, json=[{"order_id": "1", "order_status": "Submitted"}])


def make(
    settings: KeeperSettings | None = None,
) -> tuple[SessionKeeper, WebApiClient, FakeGateway, FakeClock, list[str]]:
    clock = FakeClock()
    store = MemoryPacingStore()
    store.state = PacingState(origin=clock.now - 3600)
    gateway = FakeGateway(clock)
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(gateway), base_url="https://gw.test/v1/api"
    )
    client = WebApiClient(Transport(http, PacingGovernor(store, clock=clock), clock=clock))
    new_sessions: list[str] = []

    async def on_new_session() -> None:
        new_sessions.append("x")
        await client.iserver_accounts()

    keeper = SessionKeeper(client, settings=settings, clock=clock, on_new_session=on_new_session)
    keeper.attach()
    return keeper, client, gateway, clock, new_sessions


async def test_healthy_tickle_records_times_and_runs_setup_once() -> None:
    keeper, _, gw, clock, new_sessions = make()
    (h,) = await clock.run(keeper.check())
    assert h.ok and h.last_tickle_at is not None and h.last_ok_at == h.checked_at
    assert h.server_name == "FakeSrv" and h.to_port().ok
    await clock.run(keeper.check())
    assert new_sessions == ["x"] and gw.calls.count("/iserver/accounts") == 1


async def test_expired_session_is_repaired_with_ssodh_init() -> None:
    keeper, _, gw, clock, _ = make()
    await clock.run(keeper.check())
    gw.authenticated = False
    (h,) = await clock.run(keeper.check())
    assert h.state is HealthState.NOT_AUTHENTICATED and h.since == h.checked_at
    assert gw.init_bodies == [{"publish": True, "compete": False}]
    (ok,) = await clock.run(keeper.recover())
    assert ok and keeper.health.ok


async def test_competing_is_not_taken_over_unless_allowed() -> None:
    keeper, _, gw, clock, _ = make(KeeperSettings(recover_timeout_s=20))
    gw.competing = True
    start = clock.now
    with pytest.raises(CompetingSession) as info:
        await clock.run(keeper.recover())
    assert keeper.health.state is HealthState.COMPETING
    assert gw.init_bodies == [] and clock.now == start  # no point waiting
    assert "Log out of the other session" in str(info.value)

    keeper, _, gw, clock, _ = make(KeeperSettings(take_over_competing=True))
    gw.competing = True
    (ok,) = await clock.run(keeper.recover())
    assert ok and gw.init_bodies[0]["compete"] is True


async def test_waits_for_ibeam_when_gateway_is_down() -> None:
    keeper, _, gw, clock, _ = make(KeeperSettings(recover_timeout_s=120))
    gw.up = False
    gw.up_at = clock.now + 30
    (h,) = await clock.run(keeper.check())
    assert h.state is HealthState.GATEWAY_DOWN
    (ok,) = await clock.run(keeper.recover())
    assert ok and clock.now >= gw.up_at


async def test_no_session_is_auth_pending_and_never_calls_login_endpoints() -> None:
    keeper, _, gw, clock, _ = make(KeeperSettings(recover_timeout_s=10))
    gw.has_session = False
    start = clock.now
    with pytest.raises(AuthenticationPending, match="pending"):
        await clock.run(keeper.recover())
    assert keeper.health.state is HealthState.AUTH_PENDING and clock.now - start >= 10
    assert "/iserver/auth/ssodh/init" not in gw.calls


async def test_gateway_that_stays_down_gives_up_with_starting() -> None:
    keeper, _client, gw, clock, _ = make(KeeperSettings(recover_timeout_s=10))
    gw.has_session = False
    (_h,) = await clock.run(keeper.check())
    gw.up = False
    with pytest.raises(GatewayStarting):
        await clock.run(keeper.recover())


async def test_a_read_hitting_competing_session_reports_it() -> None:
    _keeper, client, gw, clock, _ = make()
    gw.competing = True
    with pytest.raises(CompetingSession):
        await clock.run(client.live_orders())


async def test_reauthenticate_after_repeated_init_failures() -> None:
    keeper, _, gw, clock, _ = make()
    gw.authenticated = False
    gw.init_works = False
    (ok,) = await clock.run(keeper.recover())
    assert ok and "/iserver/reauthenticate" in gw.calls
    assert gw.calls.count("/iserver/auth/ssodh/init") == 2


async def test_401_mid_request_recovers_for_reads_only() -> None:
    keeper, client, gw, clock, _ = make()
    await clock.run(keeper.check())
    gw.authenticated = False
    (orders,) = await clock.run(client.live_orders())
    assert orders.snapshot is True
    gw.authenticated = False
    order = OrderRequest(conid=1, cOID="c-1", side="BUY", orderType="MKT", quantity=Decimal(1))
    before = len(gw.init_bodies)
    with pytest.raises(NotAuthenticated):
        await clock.run(client.place_orders("DU1234567", [order]))
    assert len(gw.init_bodies) == before


async def test_run_loop_tickles_about_once_a_minute_scaled() -> None:
    keeper, _, gw, clock, _ = make(KeeperSettings(time_scale=10.0))
    start = clock.now

    async def stop_later() -> None:
        await clock.sleep(60.0)  # 10 IBKR minutes at time_scale 10
        await keeper.stop()

    keeper.start()
    await clock.run(stop_later())
    assert clock.now - start == pytest.approx(60.0)
    assert 10 <= gw.calls.count("/tickle") <= 11
