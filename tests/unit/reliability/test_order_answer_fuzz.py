"""Reliability (b)5 and (b)43: whatever comes back to an ORDER POST, the caller gets one of
three typed answers and the order is never wrongly settled.

The existing fuzz (tests/unit/webapi/test_webapi_fuzz_answers.py) proves nothing escapes our
error tree; this one pins down WHICH branch each answer takes, because that decides whether
the OMS may ever send the same signal again:
- a truncated or unparseable answer, an empty one, any 5xx and any shape we do not know is
  `OutcomeUnknown` carrying the cOID (the order may exist: look it up, never resend blindly);
- only IBKR's explicit `{"error": "<text>"}` is a definitive rejection;
- a well-formed accepted/question list is returned as models.
(In-process transport: these are extra unit tests; the over-the-wire cases are in
tests/integration/reliability/test_burst_faults.py.)
"""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "webapi"))
from webapi_fakes import FakeClock

from catalyst_ibkr.adapters.webapi.endpoints import WebApiClient
from catalyst_ibkr.adapters.webapi.errors import (
    OrderRejected,
    OutcomeUnknown,
    WebApiError,
)
from catalyst_ibkr.adapters.webapi.pacing import PacingGovernor
from catalyst_ibkr.adapters.webapi.pacing_store import (
    MemoryPacingStore,
    PacingState,
)
from catalyst_ibkr.adapters.webapi.transport import Transport
from catalyst_ibkr.adapters.webapi.wire import OrderRequest

COID = "sig-7f3a"
ORDER = OrderRequest(conid=265598, cOID=COID, side="BUY", orderType="MKT",
                     quantity=Decimal(1))
ACCEPTED = json.dumps([{"order_id": "1234567", "order_status": "Submitted",
                        "encrypt_message": "1"}]).encode()
QUESTION = json.dumps([{"id": "9f2c-11", "message": ["price exceeds the Percentage constraint"
                        " of 3%"], "isSuppressed": False, "messageIds": ["o163"]}]).encode()


def _place(status: int, body: bytes) -> Any:
    clock = FakeClock()
    store = MemoryPacingStore()
    store.state = PacingState(origin=clock.now - 3600)
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(status, content=body)),
        base_url="https://gw.test/v1/api",
    )
    client = WebApiClient(Transport(http, PacingGovernor(store, clock=clock), clock=clock))

    async def main() -> Any:
        (result,) = await clock.run(client.place_orders("DU1234567", [ORDER]))
        await http.aclose()
        return result

    return asyncio.run(main())


def _assert_unknown(status: int, body: bytes) -> None:
    with pytest.raises(OutcomeUnknown) as caught:
        _place(status, body)
    assert caught.value.coid == COID, "the lookup needs the cOID"
    assert "NOT resent" in str(caught.value)


@pytest.mark.parametrize("full", [ACCEPTED, QUESTION], ids=["accepted", "question"])
def test_every_truncation_of_a_real_answer_is_an_unknown_outcome(full: bytes) -> None:
    assert _place(200, full)  # the whole answer parses (the test would be vacuous otherwise)
    for cut in range(len(full)):
        _assert_unknown(200, full[:cut])


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_unknown_whatever_the_body(status: int) -> None:
    for body in (b"", ACCEPTED, b'{"error": "Internal Server Error"}', b"<html>oops"):
        _assert_unknown(status, body)


json_leaf = (st.none() | st.booleans() | st.integers() | st.text(max_size=6)
             | st.sampled_from(["Submitted", "o163", "1,300", "C12.5", ""]))
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["order_id", "order_status", "id", "message", "messageIds",
                         "orders", "cOID", "local_order_id", "status"]), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_any_200_answer_without_an_error_key_is_models_or_unknown(value: Any) -> None:
    try:
        answer = _place(200, json.dumps(value).encode())
    except OutcomeUnknown as exc:
        assert exc.coid == COID
        return
    except WebApiError as exc:  # pragma: no cover - the assertion explains
        raise AssertionError(f"{value!r} was settled as {type(exc).__name__}: {exc}") from exc
    assert isinstance(answer, list) and answer


@settings(max_examples=150, deadline=None)
@given(error=json_leaf | st.lists(json_leaf, max_size=2))
def test_only_an_error_text_is_a_definitive_rejection(error: Any) -> None:
    body = json.dumps({"error": error}).encode()
    try:
        _place(200, body)
    except OrderRejected:
        assert isinstance(error, str) and error.strip(), (
            f"{{'error': {error!r}}} carries no reason, yet was taken as IBKR's rejection")
        return
    except OutcomeUnknown as exc:
        assert exc.coid == COID
        return
    raise AssertionError(f"{body!r} was accepted")
