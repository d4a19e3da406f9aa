"""Workload (4)'s harness, small: through a real ``catalyst-ibkr serve`` process and its
gateway process (``catalyst-ibkr sim``), every signal is answered 202 and its SUBMITTED event
arrives on the event stream. Correctness only; the latency itself is never asserted."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from bench.service_run import rss_mb, serve, unavailable_reason
from bench.service_workloads import _Events, _one_signal

pytestmark = pytest.mark.timeout(120)


def test_every_signal_is_acknowledged_through_the_service(tmp_path: Path) -> None:
    # The service is part of this build: a broken import must fail here, not skip.
    assert unavailable_reason() is None
    with serve(tmp_path) as service:
        assert rss_mb(service.pid) > 0
        events = _Events(service.url)
        events.start()
        assert events.ready.wait(10)
        prefix = f"smoke-{uuid.uuid4().hex[:6]}"
        with httpx.Client(base_url=service.url, timeout=30) as client:
            took = [_one_signal(client, events, prefix, i) for i in range(5)]
            assert all(t > 0 for t in took)
            for i in range(5):
                view = client.get(f"/v1/signals/{prefix}-{i}").json()
                assert view["status"] in ("SUBMITTED", "PARTIALLY_FILLED", "FILLED"), view
        events.close()
