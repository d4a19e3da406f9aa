"""Run an ASGI app with uvicorn on 127.0.0.1:<free port> in a thread (a real socket)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_in_thread(app: Any, *, timeout: float = 20.0) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) while the server runs."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on",
                            log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        for _ in range(int(timeout * 50)):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.02)
        if not server.started:
            raise RuntimeError("uvicorn did not start (see the log above)")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
