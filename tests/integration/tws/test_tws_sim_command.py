"""``catalyst-ibkr sim --tws-port`` end to end: the command prints where the TWS socket API
listens, and an ib_async client completes its whole startup sync there."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ib_async import IB

pytestmark = pytest.mark.timeout(60)


async def _startup_sync(port: int) -> list[str]:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=5, raiseSyncErrors=True)
    try:
        return list(ib.managedAccounts())
    finally:
        ib.disconnect()


def test_sim_command_serves_tws(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "from catalyst_ibkr.cli.main import run; run()",
           "sim", "--port", "0", "--no-tls", "--tws-port", "0", "--state-dir", str(tmp_path)]
    with (tmp_path / "stderr.txt").open("w") as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        port = None
        deadline = time.monotonic() + 20
        assert proc.stdout is not None
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            found = re.search(r"TWS socket API at [\d.]+:(\d+)", line)
            if found:
                port = int(found.group(1))
        assert port, "no 'TWS socket API at' line in the sim banner"
        assert asyncio.run(_startup_sync(port)) == ["DU1234567"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
