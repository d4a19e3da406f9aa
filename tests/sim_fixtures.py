"""pytest plugin: a real ibkr_sim server on loopback for integration tests.

Registered from ``tests/conftest.py`` (``pytest_plugins``), so every test can ask for:

``sim`` -- a running simulator (fresh per test) on ``127.0.0.1`` and a free port, HTTPS with
    the generated self-signed certificate, pacing OFF, time scale 1.  Tweak it per test with
    the marker ``@pytest.mark.sim_options(pacing=True, penalty_s=30, time_scale=50, ...)``
    (any :class:`ibkr_sim.options.SimOptions` field).
``sim_factory`` -- ``sim_factory(**options)`` starts another simulator (torn down after the
    test), for tests that need two, or options chosen at run time.

A :class:`RunningSim` offers:

- ``base_url`` (``https://127.0.0.1:PORT``, what IBeam users call the gateway URL),
  ``api_url`` (``.../v1/api``) and ``ca_file`` (the certificate to verify TLS against:
  ``httpx.Client(verify=sim.ssl_context())`` or ``requests.get(url, verify=str(sim.ca_file))``;
  never ``verify=False``);
- ``client()`` -- an ``httpx.Client`` on ``base_url`` that verifies TLS (close it, or use
  ``with``);
- ``control(method, path, body)`` / ``state()`` / ``advance(seconds)`` / ``fault(kind, ...)``
  / ``set_market(symbol, last=...)`` / ``reset()`` -- the control API of interfaces.md;
- ``sim_state`` -- the in-process :class:`ibkr_sim.state.SimState` for white-box checks
  (only read it; the server mutates it on its own thread).

Time: the simulator never needs a real IBKR wait.  Jump over windows with ``advance(s)``
(``POST /sim/clock``) or pass ``time_scale``.  The certificate lives in a per-session temp
dir, generated once per worker.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from ibkr_sim.options import SimOptions
from ibkr_sim.server import ThreadedSim
from ibkr_sim.state import SimState

__all__ = ["RunningSim"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim_options(**kw): SimOptions overrides for the `sim` fixture"
    )


@dataclass
class RunningSim:
    threaded: ThreadedSim
    options: SimOptions

    @property
    def base_url(self) -> str:
        return self.threaded.base_url

    @property
    def api_url(self) -> str:
        return self.threaded.api_url

    @property
    def ca_file(self) -> Path | None:
        return self.threaded.ca_file

    @property
    def tws_port(self) -> int:
        """The TWS socket port (start the sim with ``tws_port=0`` to get one)."""
        port = self.threaded.server.tws_port
        if port is None:
            raise RuntimeError("this simulator has no TWS view; start it with tws_port=0")
        return port

    @property
    def sim_state(self) -> SimState:
        return self.threaded.state

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What to pass as ``verify=`` to httpx: the sim's own certificate as the only CA."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 10.0)
        return httpx.Client(base_url=self.base_url, verify=self.ssl_context(), **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        with self.client() as c:
            response = c.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "/sim/state")
        return result

    def advance(self, seconds: float) -> None:
        self.control("POST", "/sim/clock", {"advance_s": seconds})

    def fault(self, kind: str, **params: Any) -> Any:
        return self.control("POST", "/sim/faults", {"kind": kind, **params})

    def set_market(self, symbol: str, **prices: Any) -> Any:
        return self.control("POST", "/sim/market", {"symbol": symbol, **prices})

    def reset(self) -> None:
        self.control("POST", "/sim/reset")


@pytest.fixture(scope="session")
def sim_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One certificate per test session (per xdist worker)."""
    return tmp_path_factory.mktemp("ibkr-sim-state")


@pytest.fixture
def sim_factory(sim_state_dir: Path) -> Iterator[Callable[..., RunningSim]]:
    started: list[ThreadedSim] = []

    def start(**overrides: Any) -> RunningSim:
        base = SimOptions(host="127.0.0.1", port=0, state_dir=sim_state_dir, pacing=False)
        options = replace(base, **overrides)
        threaded = ThreadedSim(options).start()
        started.append(threaded)
        return RunningSim(threaded, options)

    yield start
    for threaded in started:
        threaded.stop()


@pytest.fixture
def sim(request: pytest.FixtureRequest, sim_factory: Callable[..., RunningSim]) -> RunningSim:
    marker = request.node.get_closest_marker("sim_options")
    overrides = dict(marker.kwargs) if marker is not None else {}
    return sim_factory(**overrides)
