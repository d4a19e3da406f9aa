"""The retry and outcome policy of one request, on httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from webapi_fakes import FakeClock

from catalyst_ibkr.adapters.webapi.endpoints import WebApiClient
from catalyst_ibkr.adapters.webapi.errors import (
    AccountsNotQueried,
    ConnectionDropped,
    GatewayUnreachable,
    NoBridge,
    NotAuthenticated,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    PenaltyBoxActive,
    ProtocolError,
    RateLimited,
)
from catalyst_ibkr.adapters.webapi.pacing import PacingGovernor
from catalyst_ibkr.adapters.webapi.pacing_store import MemoryPacingStore, PacingState
from catalyst_ibkr.adapters.webapi.transport import Transport
from catalyst_ibkr.adapters.webapi.wire import OrderQuestion, OrderRequest, OrderSubmitted

Handler = Callable[[httpx.Request], httpx.Response]
SESSION = "bb665d0f55b6289d70bc7380089fc96f"


class Recorder:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def make(handler: Handler) -> tuple[WebApiClient, FakeClock, Recorder]:
    clock = FakeClock()
    store = MemoryPacingStore()
    store.state = PacingState(origin=clock.now - 3600)
    governor = PacingGovernor(store, clock=clock)
    rec = Recorder(handler)
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(rec), base_url="https://gw.test:5000/v1/api"
    )
    return WebApiClient(Transport(http, governor, clock=clock)), clock, rec


ORDER = OrderRequest(
    acctId="DU1234567",
    conid=265598,
    cOID="sig-1-abcdef",
    side="BUY",
    orderType="LMT",
    quantity=Decimal("10"),
    price=Decimal("165.05"),
)


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handler


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError]
)
async def test_order_post_after_send_failure_is_unknown_and_sent_once(
    exc: type[httpx.TransportError],
) -> None:
    client, clock, rec = make(raising(exc))
    with pytest.raises(OutcomeUnknown) as info:
        await clock.run(client.place_orders("DU1234567", [ORDER]))
    assert info.value.coid == "sig-1-abcdef"
    assert info.value.exit_code == 3
    assert "sig-1-abcdef" in str(info.value) and "NOT resent" in str(info.value)
    assert len(rec.requests) == 1
    assert isinstance(info.value.__cause__, httpx.TransportError)


async def test_order_post_refused_connection_is_definitive_not_unknown() -> None:
    client, clock, rec = make(raising(httpx.ConnectError))
    with pytest.raises(GatewayUnreachable) as info:
        await clock.run(client.place_orders("DU1234567", [ORDER]))
    assert info.value.nothing_sent and info.value.exit_code == 4
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "Internal Server Error"), (503, "Service Unavailable"), (200, "<html>oops")],
)
async def test_order_post_5xx_or_garbage_is_unknown(status: int, body: str) -> None:
    client, clock, rec = make(lambda r: httpx.Response(status, text=body))
    with pytest.raises(OutcomeUnknown):
        await clock.run(client.place_orders("DU1234567", [ORDER]))
    assert len(rec.requests) == 1


async def test_order_body_and_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/orders"):
            body = json.loads(request.content)
            assert body == {
                "orders": [
                    {
                        "acctId": "DU1234567",
                        "conid": 265598,
                        "cOID": "sig-1-abcdef",
                        "side": "BUY",
                        "orderType": "LMT",
                        "quantity": 10,
                        "price": 165.05,
                        "tif": "DAY",
                        "outsideRTH": False,
                    }
                ]
            }
            assert b'"price":165.05' in request.content.replace(b" ", b"")
            return httpx.Response(
                200,
                json=[
                    {
                        "id": "8b19d36a-d0c2",
                        "message": ["price exceeds \nthe Percentage constraint of 3%."],
                        "isSuppressed": False,
                        "messageIds": ["o163"],
                        "messageOptions": ["Yes", "No"],
                    }
                ],
            )
        return httpx.Response(200, json=[{"order_id": "912091175", "order_status": "PreSubmitted"}])

    client, clock, _ = make(handler)
    (first,) = await clock.run(client.place_orders("DU1234567", [ORDER]))
    assert isinstance(first[0], OrderQuestion) and first[0].messageIds == ["o163"]
    (second,) = await clock.run(client.reply("8b19d36a-d0c2", confirmed=True, coid="c"))
    assert isinstance(second[0], OrderSubmitted) and second[0].order_id == 912091175


async def test_order_error_is_a_rejection_and_reply_id_not_found_is_unknown() -> None:
    client, clock, _ = make(
        lambda r: httpx.Response(200, json={"error": "We cannot accept an order at the limit"})
    )
    with pytest.raises(OrderRejected, match="cannot accept") as info:
        await clock.run(client.place_orders("DU1234567", [ORDER]))
    assert info.value.exit_code == 1
    client, clock, _ = make(lambda r: httpx.Response(200, json={"error": "reply id not found"}))
    with pytest.raises(OutcomeUnknown, match="reply id not found"):
        await clock.run(client.reply("x", confirmed=True, coid="sig-1"))


async def test_reads_retry_transport_errors_then_succeed() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"accounts": ["DU1234567"]})

    client, clock, _ = make(handler)
    (accounts,) = await clock.run(client.iserver_accounts())
    assert accounts.accounts == ["DU1234567"] and calls == 3


async def test_reads_give_up_after_budget() -> None:
    client, clock, rec = make(raising(httpx.RemoteProtocolError))
    with pytest.raises(ConnectionDropped):
        await clock.run(client.iserver_accounts())
    assert len(rec.requests) == 3


async def test_401_recovers_session_and_retries_only_reads() -> None:
    authed = False

    def handler(request: httpx.Request) -> httpx.Response:
        if not authed:
            return httpx.Response(401, json={"error": "not authenticated", "statusCode": 401})
        return httpx.Response(200, json={"orders": [], "snapshot": True})

    client, clock, rec = make(handler)
    recoveries = 0

    async def recover() -> bool:
        nonlocal authed, recoveries
        recoveries += 1
        authed = True
        return True

    client.transport.on_unauthorized = recover
    (orders,) = await clock.run(client.live_orders())
    assert orders.snapshot is True and recoveries == 1 and len(rec.requests) == 2

    authed = False
    with pytest.raises(NotAuthenticated) as info:
        await clock.run(client.place_orders("DU1234567", [ORDER]))
    assert recoveries == 1  # an order is never retried, not even after re-auth
    assert info.value.exit_code == 4 and "re-authenticate" in str(info.value)


async def test_401_when_recovery_fails_raises() -> None:
    client, clock, rec = make(lambda r: httpx.Response(401, json={"error": "not authenticated"}))

    async def recover() -> bool:
        return False

    client.transport.on_unauthorized = recover
    with pytest.raises(NotAuthenticated):
        await clock.run(client.positions("DU1234567"))
    assert len(rec.requests) == 1


async def test_429_pauses_scope_and_next_call_fails_fast() -> None:
    client, clock, rec = make(lambda r: httpx.Response(429, json={"error": "Too many"}))
    with pytest.raises(RateLimited) as info:
        await clock.run(client.live_orders())
    assert "paused" in str(info.value)
    with pytest.raises(PenaltyBoxActive):
        await clock.run(client.live_orders())
    assert len(rec.requests) == 1
    with pytest.raises(OutcomeUnknown):  # an order hitting a 429 is reconciled, not assumed
        make_client, clock2, _ = make(lambda r: httpx.Response(429, text="slow down"))
        await clock2.run(make_client.place_orders("DU1234567", [ORDER]))


async def test_accounts_first_is_warmed_up_then_retried() -> None:
    warmed = False

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal warmed
        if request.url.path.endswith("/iserver/accounts"):
            warmed = True
            return httpx.Response(200, json={"accounts": ["DU1234567"]})
        if not warmed:
            return httpx.Response(500, json={"error": "Please query /accounts first"})
        return httpx.Response(200, json=[])

    client, clock, rec = make(handler)
    (rows,) = await clock.run(client.snapshot([265598], ["31"]))
    assert rows == [] and rec.paths()[-2:] == [
        "/v1/api/iserver/accounts",
        "/v1/api/iserver/marketdata/snapshot",
    ]
    client, clock, _ = make(
        lambda r: httpx.Response(500, json={"error": "Please query /accounts first"})
    )
    with pytest.raises(AccountsNotQueried):
        await clock.run(client.place_orders("DU1234567", [ORDER]))


async def test_known_error_bodies_map_to_classes() -> None:
    client, clock, _ = make(lambda r: httpx.Response(400, json={"error": "no bridge"}))
    with pytest.raises(NoBridge):
        await clock.run(client.live_orders())
    client, clock, _ = make(
        lambda r: httpx.Response(
            503, json={"error": "Order 999999999999 is not found", "statusCode": 503}
        )
    )
    with pytest.raises(OrderNotFound):
        await clock.run(client.order_status(999999999999))
    client, clock, _ = make(lambda r: httpx.Response(200, text="not json"))
    with pytest.raises(ProtocolError):
        await clock.run(client.live_orders())
    client, clock, _ = make(lambda r: httpx.Response(200, json={"orders": "nope"}))
    with pytest.raises(ProtocolError, match="unexpected shape"):
        await clock.run(client.live_orders())


async def test_error_messages_never_carry_session_ids() -> None:
    client, clock, _ = make(
        lambda r: httpx.Response(
            502, json={"error": f"bad gateway session={SESSION} cookie: api={SESSION}"}
        )
    )
    with pytest.raises(Exception) as info:
        await clock.run(client.positions("DU1234567"))
    assert SESSION not in str(info.value)


async def test_post_without_body_sends_content_length_and_user_agent() -> None:
    client, clock, rec = make(lambda r: httpx.Response(200, json={"authenticated": True}))
    (status,) = await clock.run(client.auth_status())
    assert status.authenticated
    req = rec.requests[0]
    assert req.method == "POST" and req.headers["content-length"] == "0"
    assert req.headers["user-agent"].startswith("catalyst-ibkr")


async def test_cancel_timeout_is_unknown_and_not_retried() -> None:
    client, clock, rec = make(raising(httpx.ReadTimeout))
    with pytest.raises(OutcomeUnknown) as info:
        await clock.run(client.cancel_order("DU1234567", 42))
    assert info.value.order_id == "42" and len(rec.requests) == 1


async def test_reply_id_not_found_with_400_is_unknown_too() -> None:
    client, clock, _ = make(
        lambda r: httpx.Response(400, json={"error": "reply id not found: abc"})
    )
    with pytest.raises(OutcomeUnknown, match="reply id not found"):
        await clock.run(client.reply("abc", confirmed=True, coid="sig-1"))


async def test_nested_hmds_no_bridge_in_tickle_is_not_an_error() -> None:
    body = {
        "session": SESSION,
        "hmds": {"error": "no bridge"},
        "iserver": {"authStatus": {"authenticated": True, "connected": True}},
    }
    client, clock, _ = make(lambda r: httpx.Response(200, json=body))
    (tickle,) = await clock.run(client.tickle())
    assert tickle.auth is not None and tickle.auth.healthy


async def test_undecodable_answer_to_an_order_is_unknown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.DecodingError("bad gzip", request=request)

    client, clock, _ = make(handler)
    with pytest.raises(OutcomeUnknown):
        await clock.run(client.place_orders("DU1234567", [ORDER]))
    client, clock, _ = make(handler)
    with pytest.raises(ProtocolError):
        await clock.run(client.live_orders())


async def test_get_sends_no_body() -> None:
    client, clock, rec = make(lambda r: httpx.Response(200, json={"orders": []}))
    await clock.run(client.live_orders())
    assert rec.requests[0].content == b"" and "content-length" not in rec.requests[0].headers
