"""Build the Web API stack (TLS, governor, transport, client, keeper) against a live sim."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from catalyst_ibkr.adapters.webapi.stack import PacingSettings, WebApiStack, open_stack
from catalyst_ibkr.adapters.webapi.tls import TlsSettings
from sim_fixtures import RunningSim


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[Callable[..., WebApiStack]]:
    """``make_stack(sim, time_scale=..., **open_stack kwargs)``; closed after the test.

    The client's ``[pacing] time_scale`` follows the sim's when the sim paces; otherwise it
    is 50 so first-window waits stay short (the sim is not counting then).
    """
    opened: list[WebApiStack] = []

    def make(sim: RunningSim, *, time_scale: float | None = None, **kwargs: Any) -> WebApiStack:
        if time_scale is not None:
            scale = time_scale
        elif sim.options.pacing:
            scale = sim.options.time_scale  # pace exactly as the sim counts
        else:
            scale = 50.0  # the sim does not pace: keep the client's windows short
        kwargs.setdefault("tls", TlsSettings(ca_file=sim.ca_file))
        kwargs.setdefault("pacing", PacingSettings(time_scale=scale, state_dir=tmp_path))
        stack = open_stack(sim.base_url, **kwargs)
        opened.append(stack)
        return stack

    yield make
    for stack in opened:
        await stack.aclose()
