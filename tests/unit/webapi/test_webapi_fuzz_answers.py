"""Fuzz: whatever the gateway answers, the client returns a model or raises our tree.

For an order the answer is an accepted/question list, a definitive rejection or an unknown
outcome; never a raw pydantic/JSON/KeyError and never a bare "protocol" error (a garbled
answer to an order means the order may exist).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from webapi_fakes import FakeClock

from catalyst_ibkr.adapters.webapi.endpoints import WebApiClient
from catalyst_ibkr.adapters.webapi.errors import ProtocolError, WebApiError
from catalyst_ibkr.adapters.webapi.pacing import PacingGovernor
from catalyst_ibkr.adapters.webapi.pacing_store import MemoryPacingStore, PacingState
from catalyst_ibkr.adapters.webapi.transport import Transport
from catalyst_ibkr.adapters.webapi.wire import OrderRequest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["1,300", "C12.5", "N/A", "912091175", "Submitted", "o163"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["order_id", "id", "message", "messageIds", "error", "orders",
                         "snapshot", "orderId", "conid", "status", "order_status", "31"]),
        inner,
        max_size=5,
    ),
    max_leaves=12,
)  # fmt: skip
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.just(b""),
)
statuses = st.sampled_from([200, 200, 200, 400, 401, 404, 429, 500, 503])

ORDER = OrderRequest(conid=1, cOID="f-1", side="BUY", orderType="MKT", quantity=Decimal(1))


def make(status: int, body: bytes) -> tuple[WebApiClient, FakeClock]:
    clock = FakeClock()
    store = MemoryPacingStore()
    store.state = PacingState(origin=clock.now - 3600)
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(status, content=body)),
        base_url="https://gw.test/v1/api",
    )
    return WebApiClient(Transport(http, PacingGovernor(store, clock=clock), clock=clock)), clock


def run(client: WebApiClient, clock: FakeClock, call: Any) -> Any:
    async def main() -> Any:
        (result,) = await clock.run(call(client))
        return result

    return asyncio.run(main())


@settings(max_examples=150, deadline=None)
@given(status=statuses, body=bodies)
def test_order_answers_are_classified(status: int, body: bytes) -> None:
    client, clock = make(status, body)
    try:
        result = run(client, clock, lambda c: c.place_orders("DU1", [ORDER]))
    except ProtocolError as exc:  # pragma: no cover - the assertion explains
        raise AssertionError(f"an order answer must not be a bare protocol error: {exc}") from exc
    except WebApiError:
        return
    assert isinstance(result, list) and result


@settings(max_examples=150, deadline=None)
@given(status=statuses, body=bodies)
def test_read_answers_are_models_or_our_errors(status: int, body: bytes) -> None:
    for call in (
        lambda c: c.live_orders(),
        lambda c: c.snapshot([1], ["31"]),
        lambda c: c.positions("DU1"),
        lambda c: c.tickle(),
    ):
        client, clock = make(status, body)
        with contextlib.suppress(WebApiError):
            run(client, clock, call)
