"""Every other route and status code, keys, SSE resume and metrics (fake service behind)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from conftest import ADMIN_KEY, API_KEY, RunningApi

BODY = {"id": "o-1", "symbol": "AAPL", "side": "BUY", "quantity": "10", "order_type": "LMT",
        "limit_price": "190.5"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_orders_cancel_modify_and_their_status_codes(api: RunningApi) -> None:
    api.client.post("/v1/signals", json=BODY)
    orders = api.client.get("/v1/orders").json()
    assert len(orders) == 1 and orders[0]["limit_price"] == "190.5"
    ref = orders[0]["order_ref"]
    assert api.client.get("/v1/orders", params={"open_only": "true"}).json()[0]["order_ref"] == ref
    assert api.client.get("/v1/orders", params={"open_only": "maybe"}).status_code == 422

    modified = api.client.post(f"/v1/orders/{ref}/modify", json={"limit_price": 191.25})
    assert modified.status_code == 202 and modified.json()["status"] == "ACCEPTED"
    assert api.client.get("/v1/orders").json()[0]["limit_price"] == "191.25"
    denied = api.client.post(f"/v1/orders/{ref}/modify", json={"quantity": "5000"})
    assert denied.status_code == 409 and denied.json()["reason_code"] == "QTY_EXCEEDS_MAX"
    for bad, field in (({}, "body"), ({"quantity": "-1"}, "quantity"), ({"qty": 1}, "qty"),
                       ({"limit_price": "abc"}, "limit_price")):
        r = api.client.post(f"/v1/orders/{ref}/modify", json=bad)
        assert r.status_code == 422 and r.json()["error"]["issues"][0]["field"] == field
    calls = api.fake.broker_calls
    assert api.client.post("/v1/orders/missing/modify", json={"quantity": 1}).status_code == 404

    cancelled = api.client.post(f"/v1/orders/{ref}/cancel")
    assert cancelled.status_code == 202 and cancelled.json()["command"] == "cancel"
    again = api.client.post(f"/v1/orders/{ref}/cancel")
    assert again.status_code == 409 and again.json()["status"] == "REJECTED"
    assert api.client.post("/v1/orders/missing/cancel").status_code == 404
    assert api.fake.broker_calls == calls + 1


def test_cancel_all_positions_account_risk_state_kill(api: RunningApi) -> None:
    api.client.post("/v1/signals", json=BODY)
    r = api.client.post("/v1/orders/cancel-all")
    assert r.status_code == 202 and r.json()["status"] == "ACCEPTED"
    assert api.client.get("/v1/orders", params={"open_only": True}).json() == []
    pos = api.client.get("/v1/positions").json()
    assert pos[0]["quantity"] == "10" and pos[0]["avg_price"] == "190.25"
    assert api.client.get("/v1/account").json()["net_liquidation"] == "1000000.00"
    assert api.client.get("/v1/risk").json()["trading_state"] == "ACTIVE"
    assert api.client.post("/v1/risk/state", json={"state": "REDUCING"}).json()[
        "trading_state"] == "REDUCING"
    for bad, field in (({"state": "PAUSED"}, "state"), ({}, "state"), ({"state": 1}, "state"),
                       ({"state": "HALTED", "x": 1}, "x")):
        r = api.client.post("/v1/risk/state", json=bad)
        assert r.status_code == 422 and r.json()["error"]["issues"][0]["field"] == field
    kill = api.client.post("/v1/kill")
    assert kill.status_code == 200
    assert kill.json()["trading_state"] == "HALTED" and kill.json()["verified"] is True
    assert api.client.get("/v1/risk").json()["trading_state"] == "HALTED"


def test_health_liveness_and_readiness(api: RunningApi) -> None:
    assert api.client.get("/v1/health").status_code == 200
    assert api.client.get("/v1/health", params={"ready": 1}).json()["ready"] is True
    api.fake.ready = False
    assert api.client.get("/v1/health").status_code == 200
    r = api.client.get("/v1/health", params={"ready": 1})
    assert r.status_code == 503 and r.json()["broker_detail"] == "fake"


def test_keys_401_without_403_for_admin_routes(keyed_api: RunningApi) -> None:
    c = keyed_api.client
    routes = [("GET", "/v1/orders"), ("GET", "/v1/positions"), ("GET", "/v1/account"),
              ("GET", "/v1/risk"), ("GET", "/v1/health"), ("GET", "/v1/signals/x"),
              ("GET", "/v1/events"), ("POST", "/v1/signals"), ("POST", "/v1/orders/x/cancel"),
              ("POST", "/v1/orders/cancel-all"), ("POST", "/v1/risk/state"), ("POST", "/v1/kill")]
    for method, path in routes:
        for headers in ({}, _bearer("wrong"), {"Authorization": API_KEY}):
            r = c.request(method, path, headers=headers, json=BODY)
            assert r.status_code == 401, (method, path, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
    assert keyed_api.fake.submit_calls == 0
    assert c.post("/v1/signals", json=BODY, headers=_bearer(API_KEY)).status_code == 202
    assert c.get("/v1/orders", headers=_bearer(API_KEY)).status_code == 200
    assert c.get("/v1/orders", headers=_bearer(ADMIN_KEY)).status_code == 200
    for path, body in (("/v1/orders/cancel-all", None), ("/v1/risk/state", {"state": "HALTED"}),
                       ("/v1/kill", None)):
        assert c.post(path, json=body, headers=_bearer(API_KEY)).status_code == 403
    assert keyed_api.fake.state == "ACTIVE"
    r = c.post("/v1/risk/state", json={"state": "HALTED"}, headers=_bearer(ADMIN_KEY))
    assert r.status_code == 200 and keyed_api.fake.state_actor == "admin-key"
    # Outside /v1: the placeholder, the docs and metrics need no key.
    assert c.get("/").status_code == 200 and "catalyst-ibkr" in c.get("/").text
    assert c.get("/docs").status_code == 200 and c.get("/openapi.json").status_code == 200
    assert c.get("/metrics").status_code == 200


def test_unknown_route_and_method_are_json_errors(api: RunningApi) -> None:
    r = api.client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["status"] == 404
    assert api.client.delete("/v1/signals").status_code == 405


def test_metrics_have_catalyst_prefix_and_count_requests(api: RunningApi) -> None:
    api.client.post("/v1/signals", json=BODY)
    api.client.get("/v1/signals/o-1")
    text = api.client.get("/metrics").text
    assert 'catalyst_http_requests_total{method="POST",route="/v1/signals",status="202"} 1.0' \
        in text
    assert 'route="/v1/signals/{signal_id}"' in text  # the template, never the raw id
    assert "catalyst_http_request_duration_seconds_bucket" in text
    assert 'catalyst_signals_total{status="SUBMITTED"} 1.0' in text  # the service's own
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert names and all(name.startswith("catalyst_") for name in names)


def _read_events(url: str, headers: dict[str, str], count: int) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    with httpx.Client(base_url=url, timeout=10) as client, \
            client.stream("GET", "/v1/events", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        current: dict[str, object] = {}
        for line in stream.iter_lines():
            if line.startswith("id: "):
                current["id"] = int(line[4:])
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif not line and "id" in current:
                events.append(current)
                current = {}
                if len(events) == count:
                    break
    return events


@pytest.fixture
def three_signals(api: RunningApi) -> Iterator[RunningApi]:
    for n in range(3):
        api.client.post("/v1/signals", json={**BODY, "id": f"e-{n}"})
    yield api


def test_sse_resumes_after_last_event_id(three_signals: RunningApi) -> None:
    api = three_signals
    everything = _read_events(api.url, {"Last-Event-ID": "0"}, 3)
    assert [e["id"] for e in everything] == [1, 2, 3]
    assert everything[0]["event"] == "signal"
    assert everything[0]["data"]["data"]["signal_id"] == "e-0"  # type: ignore[index]
    resumed = _read_events(api.url, {"Last-Event-ID": "2"}, 1)
    assert [e["id"] for e in resumed] == [3]
    # A live event arrives on an open stream.
    got: list[list[dict[str, object]]] = []
    reader = threading.Thread(
        target=lambda: got.append(_read_events(api.url, {"Last-Event-ID": "3"}, 1))
    )
    reader.start()
    api.client.post("/v1/signals", json={**BODY, "id": "e-live"})
    reader.join(10)
    assert got and got[0][0]["id"] == 4
    assert got[0][0]["data"]["data"]["signal_id"] == "e-live"  # type: ignore[index]
    bad = api.client.get("/v1/events", headers={"Last-Event-ID": "abc"})
    assert bad.status_code == 422


def test_unknown_cancel_outcome_is_202_pending_and_not_live_is_503(api: RunningApi) -> None:
    from catalyst_ibkr.service.views import CommandView, HealthView

    async def pending_cancel(order_ref: str) -> CommandView:
        return CommandView("cancel", "PENDING", order_ref, "no answer; reconciling")

    async def dead(*, ready: bool) -> HealthView:
        return HealthView(False, False, True, False, False, "session lost", "ACTIVE", ())

    api.fake.cancel_order = pending_cancel  # type: ignore[method-assign]
    r = api.client.post("/v1/orders/anything/cancel")
    assert r.status_code == 202 and r.json()["status"] == "PENDING"
    api.fake.health = dead  # type: ignore[method-assign]
    r = api.client.get("/v1/health")
    assert r.status_code == 503 and r.json()["broker_detail"] == "session lost"
