"""Schemathesis over the service's own OpenAPI schema (reliability.md (b) 41).

Against the real ExecutionService on a memory broker whose call log is the witness:
no input, valid or not, gets a 5xx; an answer of 4xx never comes with a broker call
(place / modify / cancel). GET /v1/events is left out: it is an endless stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import schemathesis
from api_server import serve_in_thread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from catalyst_ibkr.adapters.memory import MemoryBroker
from catalyst_ibkr.api import create_app
from catalyst_ibkr.api.app import running
from catalyst_ibkr.api.service_api import ServiceApi
from catalyst_ibkr.config.loader import load_settings
from catalyst_ibkr.core.clock import SystemClock
from catalyst_ibkr.service.bootstrap import build_service

pytestmark = pytest.mark.timeout(300)

ORDER_CALLS = ("place", "modify", "cancel")
SKIP = {("GET", "/v1/events")}


class Served:
    def __init__(self, url: str, brokers: list[MemoryBroker]) -> None:
        self.url = url
        self._brokers = brokers

    def order_calls(self) -> int:
        return sum(b.call_count(m) for b in self._brokers for m in ORDER_CALLS)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = Path(tmp_path_factory.mktemp("fuzz")) / "journal.db"
    brokers: list[MemoryBroker] = []

    @asynccontextmanager
    async def service() -> AsyncIterator[ServiceApi]:
        broker = MemoryBroker(clock=SystemClock())
        brokers.append(broker)
        svc = build_service(load_settings(None, {}).settings, broker=broker,
                            db_url=f"sqlite:///{db}")
        async with running(svc) as started:
            yield started

    with serve_in_thread(create_app(service)) as url:
        yield Served(url, brokers)


@pytest.mark.parametrize("mode", [GenerationMode.NEGATIVE, GenerationMode.POSITIVE])
def test_no_input_gets_a_5xx_or_a_broker_call_with_a_4xx(served: Served,
                                                         mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    tested = 0
    statuses: Counter[int] = Counter()
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            case = data.draw(operation.as_strategy(generation_mode=mode))  # noqa: B023
            before = served.order_calls()
            response = case.call(base_url=served.url, timeout=30)
            statuses[response.status_code] += 1
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            assert response.status_code < 500, f"{where}: {response.text[:300]}"
            if 400 <= response.status_code < 500:
                assert served.order_calls() == before, f"{where}: the broker was called"
            elif response.status_code == 200:  # docs/OpenAPI tell the truth about answers
                case.validate_response(response, checks=[response_schema_conformance])

        try:
            check()
        except Unsatisfiable:
            # Negative mode has nothing to break in an operation without inputs.
            assert mode is GenerationMode.NEGATIVE, operation.path
            continue
        tested += 1
    assert tested >= (5 if mode is GenerationMode.NEGATIVE else 12)
    # The fuzzing reached the validation it is meant to test (not only 404s).
    assert statuses[422] > 20, statuses
    if mode is GenerationMode.POSITIVE:
        assert sum(n for code, n in statuses.items() if code < 300) > 10, statuses
