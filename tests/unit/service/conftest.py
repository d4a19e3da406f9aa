"""Fixtures for the OMS unit tests (helpers live in tests/oms_harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oms_harness import Harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(db_url=f"sqlite:///{tmp_path / 'journal.db'}")
    yield h
    for svc in list(h.services):
        await svc.stop()
