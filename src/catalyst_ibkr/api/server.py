"""A uvicorn server that stops on SIGINT/SIGTERM without killing the process.

uvicorn re-raises a captured SIGINT/SIGTERM once its own shutdown is done. With the service
composed around the server (`serve`), that would end the process before the service,
broker and simulator are stopped; here the signal only asks the server to stop and the
caller's clean-up runs. A second Ctrl-C still forces uvicorn's exit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator
from contextlib import contextmanager

import uvicorn

__all__ = ["GracefulServer"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)
