"""POST /v1/signals and GET /v1/signals/{id} over a real socket (fake service behind)."""

from __future__ import annotations

import concurrent.futures

import httpx

from conftest import RunningApi

BODY = {"id": "sig-1", "symbol": "AAPL", "side": "BUY", "quantity": "10", "order_type": "MKT"}


def test_accepted_202_with_url_and_location(api: RunningApi) -> None:
    r = api.client.post("/v1/signals", json=BODY)
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "sig-1", "status": "RECEIVED", "url": "/v1/signals/sig-1"}
    assert r.headers["location"] == "/v1/signals/sig-1"
    got = api.client.get("/v1/signals/sig-1")
    assert got.status_code == 200
    view = got.json()
    assert view["quantity"] == "10" and view["client_order_id"] and view["status"] == "SUBMITTED"


def test_same_id_same_body_returns_first_answer_and_one_broker_call(api: RunningApi) -> None:
    first = api.client.post("/v1/signals", json=BODY)
    # Same meaning, different spelling: number instead of string, other key order.
    again = api.client.post("/v1/signals", json={**dict(reversed(BODY.items())), "quantity": 10})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert api.fake.broker_calls == 1


def test_concurrent_duplicates_all_get_202_never_409(api: RunningApi) -> None:
    api.fake.submit_delay = 0.05
    body = {**BODY, "id": "dup-race"}

    def post() -> httpx.Response:
        with httpx.Client(base_url=api.url, timeout=10) as client:
            return client.post("/v1/signals", json=body)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(), range(8)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    assert api.fake.broker_calls == 1


def test_same_id_different_body_is_409_and_changes_nothing(api: RunningApi) -> None:
    api.client.post("/v1/signals", json=BODY)
    r = api.client.post("/v1/signals", json={**BODY, "quantity": "11"})
    assert r.status_code == 409
    assert "different body" in r.json()["error"]["message"]
    assert api.client.get("/v1/signals/sig-1").json()["quantity"] == "10"
    assert api.fake.broker_calls == 1


def test_idempotency_key_header_must_equal_id(api: RunningApi) -> None:
    ok = api.client.post("/v1/signals", json=BODY, headers={"Idempotency-Key": "sig-1"})
    assert ok.status_code == 202
    bad = api.client.post("/v1/signals", json={**BODY, "id": "sig-2"},
                          headers={"Idempotency-Key": "other"})
    assert bad.status_code == 422
    assert bad.json()["error"]["issues"][0]["field"] == "Idempotency-Key"
    assert api.client.get("/v1/signals/sig-2").status_code == 404


def _post_raw(api: RunningApi, text: str) -> httpx.Response:
    return api.client.post("/v1/signals", content=text,
                           headers={"content-type": "application/json"})


def test_bad_inputs_are_422_with_field_messages_and_store_nothing(api: RunningApi) -> None:
    cases = {
        '{"id":"b1","symbol":"AAPL","side":"BUY","quantity":NaN,"order_type":"MKT"}': "body",
        '{"id":"b2","symbol":"AAPL","side":"BUY","quantity":Infinity,"order_type":"MKT"}': "body",
        '{"id":"b3","symbol":"AAPL","side":"BUY","quantity":-5,"order_type":"MKT"}': "quantity",
        '{"id":"b4","symbol":"AAPL","side":"BUY","quantity":0,"order_type":"MKT"}': "quantity",
        '{"id":"b5","symbol":"AAPL","side":"HOLD","quantity":1,"order_type":"MKT"}': "side",
        '{"id":"b6","symbol":"AAPL","side":"BUY","quantity":1,"order_type":"LMT"}': "limit_price",
        '{"id":"b7","symbol":"AAPL","side":"BUY","quantity":1,"order_type":"MKT","x":1}': "x",
        '{"id":"b8","symbol":"AAPL","side":"BUY","quantity":1e308,"order_type":"MKT"}': "quantity",
        '{"id":"b9","symbol":"AAPL","side":"BUY","quantity":"1","order_type":"LMT",'
        '"limit_price":"1.123456789012"}': "limit_price",
        '[1, 2]': "body",
        '{"id": "b10", ': "body",
        '': "body",
        '{"id":"b11","symbol":["A"],"side":"BUY","quantity":1,"order_type":"MKT"}': "symbol",
        '{"id":"b12","symbol":"AAPL","side":"BUY","quantity":true,"order_type":"MKT"}':
            "quantity",
    }
    for text, field in cases.items():
        r = _post_raw(api, text)
        assert r.status_code == 422, (text, r.text)
        issues = r.json()["error"]["issues"]
        assert field in [i["field"] for i in issues], (text, issues)
        assert all(i["problem"] for i in issues)
    assert api.fake.submit_calls == 0 and api.fake.broker_calls == 0


def test_huge_body_is_413(api: RunningApi) -> None:
    r = _post_raw(api, '{"id":"' + "x" * 70_000 + '"}')
    assert r.status_code == 413
    assert api.fake.submit_calls == 0


def test_risk_denial_is_202_with_denied_status_and_reason(api: RunningApi) -> None:
    r = api.client.post("/v1/signals", json={**BODY, "id": "big", "quantity": "5000"})
    assert r.status_code == 202
    assert r.json()["status"] == "RECEIVED"  # journaled; the decision is read at the url
    view = api.client.get(r.json()["url"]).json()
    assert view["status"] == "DENIED"
    assert view["risk_decision"] == "DENIED" and view["reason_code"] == "QTY_EXCEEDS_MAX"
    assert api.fake.broker_calls == 0


def test_unknown_signal_is_404(api: RunningApi) -> None:
    r = api.client.get("/v1/signals/nope")
    assert r.status_code == 404
    assert "nope" in r.json()["error"]["message"]


def test_config_default_ttl_applies_when_the_body_has_none(tmp_path: object) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from api_fakes import FakeService
    from api_server import serve_in_thread

    from catalyst_ibkr.api import create_app
    from catalyst_ibkr.api.app import running

    fake = FakeService()
    app = create_app(lambda: running(fake), default_ttl_s=Decimal("5"))
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        assert client.post("/v1/signals", json=BODY).status_code == 202
        assert client.post("/v1/signals", json={**BODY, "id": "own", "ttl_s": "30"}
                           ).status_code == 202
        # The same body again is the same request, whatever default it was given.
        assert client.post("/v1/signals", json=BODY).status_code == 202
    ttl = {sid: view.expires_at - view.received_at for sid, (_, view) in fake.signals.items()}
    assert ttl == {"sig-1": timedelta(seconds=5), "own": timedelta(seconds=30)}
