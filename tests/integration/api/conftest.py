"""Fixtures: the API app on a real loopback socket, over a fake service (or the real one)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from api_fakes import FakeService
from api_server import serve_in_thread

from catalyst_ibkr.api import ApiKeys, create_app
from catalyst_ibkr.api.app import running

API_KEY = "k" * 43
ADMIN_KEY = "a" * 43


@dataclass
class RunningApi:
    url: str
    fake: FakeService
    client: httpx.Client


def _run(keys: ApiKeys | None) -> Iterator[RunningApi]:
    fake = FakeService()
    app = create_app(lambda: running(fake), keys=keys)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10.0) as client:
        yield RunningApi(url, fake, client)
    assert fake.stopped, "the lifespan must stop the service"


@pytest.fixture
def api() -> Iterator[RunningApi]:
    """No keys configured (loopback development mode)."""
    yield from _run(None)


@pytest.fixture
def keyed_api() -> Iterator[RunningApi]:
    yield from _run(ApiKeys(api_key=API_KEY, admin_key=ADMIN_KEY))
