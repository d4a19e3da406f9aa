"""The paper-to-live interlock: start checks, broker-reported accounts, refusal without a call."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from catalyst_ibkr.adapters.memory import MemoryBroker
from catalyst_ibkr.config.sections import GatewaySettings, PacingSettings
from catalyst_ibkr.config.settings import RiskSettings, Settings
from catalyst_ibkr.core.enums import OrderType, Side
from catalyst_ibkr.core.ids import AccountId, ClientOrderId
from catalyst_ibkr.ports.broker import Accepted, CancelOrder, PlaceOrder, Rejected
from catalyst_ibkr.service.interlock import (
    INTERLOCK_CODE,
    InterlockedBroker,
    InterlockRefused,
    PaperLiveInterlock,
)


def make_settings(**gateway: Any) -> Settings:
    """Sections built directly: the loader itself refuses most of these combinations."""
    pacing = gateway.pop("pacing", {})
    # RiskSettings passed explicitly: Settings() deep-copies its default, which holds a
    # mappingproxy that cannot be copied (config's concern; noted in the ops report)
    return Settings(
        risk=RiskSettings(), gateway=GatewaySettings(**gateway), pacing=PacingSettings(**pacing)
    )


@pytest.mark.parametrize(
    ("gateway", "fragment"),
    [
        ({"mode": "live"}, "explicit live account"),
        ({"mode": "live", "account": "DU1234567"}, "paper account"),
        ({"mode": "paper", "account": "U7654321"}, "live account"),
    ],
)
def test_start_refuses_disagreeing_settings(gateway: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InterlockRefused, match=fragment):
        PaperLiveInterlock(make_settings(**gateway)).check_start()


def test_start_accepts_agreeing_settings() -> None:
    PaperLiveInterlock(make_settings(mode="paper")).check_start()
    PaperLiveInterlock(make_settings(mode="paper", account="DU1234567")).check_start()
    PaperLiveInterlock(make_settings(mode="live", account="U7654321")).check_start()


def test_time_scale_refused_when_the_broker_reports_a_live_account() -> None:
    interlock = PaperLiveInterlock(make_settings(mode="paper", pacing={"time_scale": 50}))
    interlock.check_start()  # paper, no account: allowed for simulator tests
    problem = interlock.observe_account("U7654321")
    assert problem is not None and "live account" in problem


def test_time_scale_refused_in_live_mode_at_start() -> None:
    settings = make_settings(mode="live", account="U7654321", pacing={"time_scale": 10})
    with pytest.raises(InterlockRefused, match="test-only"):
        PaperLiveInterlock(settings).check_start()


@pytest.mark.parametrize(
    ("gateway", "reported", "fragment"),
    [
        ({"mode": "paper"}, "U7654321", "live account U7654321"),
        ({"mode": "live", "account": "U7654321"}, "DU1234567", "account DU1234567"),
        ({"mode": "paper", "account": "DU1111111"}, "DU1234567", "[gateway] account"),
    ],
)
def test_reported_account_that_disagrees_trips(
    gateway: dict[str, Any], reported: str, fragment: str
) -> None:
    trips: list[str] = []
    interlock = PaperLiveInterlock(make_settings(**gateway), on_trip=trips.append)
    problem = interlock.observe_account(reported)
    assert problem is not None and fragment in problem
    assert interlock.state.tripped and len(trips) == 1
    interlock.observe_account(reported)
    assert len(trips) == 1  # reported once



async def test_wrapped_broker_refuses_orders_without_a_broker_call_but_cancels_pass() -> None:
    inner = MemoryBroker(account=AccountId("U7654321"))  # the gateway logged into LIVE
    interlock = PaperLiveInterlock(make_settings(mode="paper"))
    broker = InterlockedBroker(inner, interlock)
    instrument = await broker.resolve("AAPL")
    cid = ClientOrderId(f"t-{uuid.uuid4().hex[:12]}")
    outcome = await broker.place(
        PlaceOrder(cid, instrument, Side.BUY, Decimal(1), OrderType.LMT,
                   limit_price=Decimal("1.00"))
    )
    assert isinstance(outcome, Rejected) and outcome.code == INTERLOCK_CODE
    assert "paper/live interlock" in outcome.reason
    assert inner.call_count("place") == 0
    cancel = await broker.cancel(CancelOrder(client_order_id=cid))
    assert inner.call_count("cancel") == 1
    assert isinstance(cancel, Accepted | Rejected)


async def test_wrapped_broker_passes_orders_when_mode_and_account_agree() -> None:
    inner = MemoryBroker()  # DU1234567
    broker = InterlockedBroker(inner, PaperLiveInterlock(make_settings(mode="paper")))
    instrument = await broker.resolve("AAPL")
    outcome = await broker.place(
        PlaceOrder(ClientOrderId(f"t-{uuid.uuid4().hex[:12]}"), instrument, Side.BUY,
                   Decimal(1), OrderType.LMT, limit_price=Decimal("1.00"))
    )
    assert isinstance(outcome, Accepted)
    assert inner.call_count("place") == 1
    assert not broker.interlock.state.tripped
    assert broker.interlock.state.account == "DU1234567"


def test_gateway_account_list_must_contain_the_configured_account() -> None:
    interlock = PaperLiveInterlock(make_settings(mode="paper", account="DU7777777"))
    problem = interlock.observe_gateway_accounts(["DU1234567"])
    assert problem is not None and "DU1234567" in problem and "DU7777777" in problem


def test_gateway_account_list_without_configured_account_checks_the_mode() -> None:
    interlock = PaperLiveInterlock(make_settings(mode="paper"))
    assert interlock.observe_gateway_accounts(["DU1234567"]) is None
    live = PaperLiveInterlock(make_settings(mode="paper"))
    problem = live.observe_gateway_accounts(["U7654321"])
    assert problem is not None and "live account" in problem


async def test_tripped_broker_reports_an_unusable_session_with_the_reason() -> None:
    inner = MemoryBroker(account=AccountId("U7654321"))
    broker = InterlockedBroker(inner, PaperLiveInterlock(make_settings(mode="paper")))
    assert (await broker.health()).ok
    await broker.account()  # reports the live account: trips
    health = await broker.health()
    assert not health.ok and health.detail.startswith("paper/live interlock:")
