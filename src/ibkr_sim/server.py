"""Running the simulator: an asyncio server object, a blocking ``run`` for the CLI, and a
background-thread variant for tests and the in-process demo.

The server opens one socket for both the Client Portal API (``/v1/api``, ``/v1/portal``) and
the control API (``/sim``), over TLS with the reusable self-signed certificate unless TLS is
switched off.  A background ticker steps the engine so resting orders fill and sessions
expire even when no request arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from aiohttp import web

from ibkr_sim.options import SimOptions
from ibkr_sim.state import SimState
from ibkr_sim.tls import CertificateFiles, ensure_certificate, server_context
from ibkr_sim.tws.server import TwsServer
from ibkr_sim.web.app import build_app

__all__ = ["SimServer", "ThreadedSim", "run"]

T = TypeVar("T")


class SimServer:
    """One simulator bound to a socket; ``start``/``stop`` inside a running event loop."""

    def __init__(self, options: SimOptions) -> None:
        options.validate()
        self.options = options
        self.state = SimState(options)
        self.cert: CertificateFiles | None = None
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.port = options.port
        self.tws: TwsServer | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.options.tls else "http"

    @property
    def host_for_url(self) -> str:
        host = self.options.host
        if host in ("0.0.0.0", ""):
            return "127.0.0.1"
        return f"[{host}]" if ":" in host else host

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT`` (what IBeam's users call the gateway URL)."""
        return f"{self.scheme}://{self.host_for_url}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1/api"

    @property
    def ca_file(self) -> Path | None:
        return self.cert.cert_path if self.cert else None

    async def start(self) -> None:
        ssl_ctx = None
        if self.options.tls:
            self.cert = ensure_certificate(self.options.state_dir)
            ssl_ctx = server_context(self.cert)
        app = build_app(self.state)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.options.host, self.options.port, ssl_context=ssl_ctx,
            reuse_address=True,
        )
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        if self.options.tws_port is not None:
            self.tws = TwsServer(self.state, self.options.host, self.options.tws_port)
            await self.tws.start()
        self._ticker = asyncio.create_task(self._tick())

    @property
    def tws_port(self) -> int | None:
        """The TWS socket port actually bound (``--tws-port 0`` picks a free one)."""
        return self.tws.port if self.tws is not None else None

    async def _tick(self) -> None:
        while True:
            self.state.step()
            await asyncio.sleep(self.options.ticker_interval_s)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self.tws is not None:
            await self.tws.stop()
            self.tws = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.state.save_book()

    def banner(self) -> str:
        lines = [
            f"ibkr_sim: Client Portal API at {self.api_url}",
            f"ibkr_sim: control API at {self.base_url}/sim/state",
            f"ibkr_sim: account {self.options.account_id} (paper), time scale "
            f"{self.options.time_scale:g}, pacing {'on' if self.options.pacing else 'off'}",
        ]
        if self.cert is not None:
            lines.append(f"ibkr_sim: TLS certificate {self.cert.cert_path}")
            lines.append(f"ibkr_sim: SHA-256 fingerprint {self.cert.fingerprint}")
        else:
            lines.append("ibkr_sim: TLS off (--no-tls): plain http")
        book = self.state.book_file
        if book is not None:
            how = "restored from" if book.restored else "new, saved to"
            lines.append(f"ibkr_sim: persistent book {how} {book.path}")
        if self.tws is not None:
            lines.append(f"ibkr_sim: TWS socket API at {self.host_for_url}:{self.tws.port}")
        return "\n".join(lines)


async def _serve(options: SimOptions, out: TextIO) -> None:
    server = SimServer(options)
    await server.start()
    print(server.banner(), file=out, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("ibkr_sim: stopped", file=out, flush=True)


def run(options: SimOptions, out: TextIO | None = None) -> None:
    """Serve until SIGINT/SIGTERM (the ``catalyst-ibkr sim`` command)."""
    asyncio.run(_serve(options, out if out is not None else sys.stdout))


class ThreadedSim:
    """A simulator on its own event loop in a daemon thread (tests, the demo).

    ``start()`` returns once the socket is listening; ``stop()`` shuts it down and joins.
    Use ``call(fn)`` to run something against ``state`` on the server's loop thread.
    """

    def __init__(self, options: SimOptions) -> None:
        self.server = SimServer(options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="ibkr-sim")
        self._started = False

    def start(self, timeout: float = 10.0) -> ThreadedSim:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.server.start(), self._loop)
        future.result(timeout)
        self._started = True
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._started:
            future = asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop)
            with contextlib.suppress(Exception):
                future.result(timeout)
            self._started = False
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        if not self._loop.is_running():
            self._loop.close()

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the server's loop thread and return its result (set-up in tests and
        benchmarks, e.g. seeding positions, without sending counted API requests)."""

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def __enter__(self) -> ThreadedSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def state(self) -> SimState:
        return self.server.state

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def api_url(self) -> str:
        return self.server.api_url

    @property
    def ca_file(self) -> Path | None:
        return self.server.ca_file
