"""TLS certificate handling and the two command-line entry points, as real processes."""

from __future__ import annotations

import os
import queue
import re
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ibkr_sim.tls import ensure_certificate, fingerprint_sha256
from sim_fixtures import RunningSim

VENV_BIN = Path(sys.executable).parent


def test_certificate_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path)
    second = ensure_certificate(tmp_path)
    assert first == second
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", first.fingerprint)
    assert first.fingerprint == fingerprint_sha256(first.cert_path.read_bytes())
    assert oct(first.key_path.stat().st_mode & 0o777) == "0o600"


def test_tls_verifies_against_the_sim_cert_and_fails_against_public_cas(sim: RunningSim) -> None:
    with sim.client() as c:
        assert c.get("/v1/api/iserver/auth/status").status_code == 200
    with httpx.Client(verify=ssl.create_default_context(), timeout=5) as c, \
            pytest.raises(httpx.ConnectError):
        c.get(f"{sim.base_url}/v1/api/iserver/auth/status")


def test_no_tls_serves_plain_http(sim_factory) -> None:  # type: ignore[no-untyped-def]
    sim = sim_factory(tls=False)
    assert sim.base_url.startswith("http://") and sim.ca_file is None
    with httpx.Client(timeout=5) as c:
        assert c.get(f"{sim.api_url}/iserver/auth/status").json()["authenticated"] is True


def _start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    pumper = threading.Thread(target=pump, daemon=True)
    pumper.start()
    output = ""
    deadline = time.monotonic() + 15  # generous deadline on a loaded CI box; not a speed test
    while time.monotonic() < deadline and ("fingerprint" not in output and "TLS off" not in output):
        try:
            output += lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                break
    time.sleep(0.2)
    while not lines.empty():
        output += lines.get()
    proc.lines = lines  # type: ignore[attr-defined]
    proc.pumper = pumper  # type: ignore[attr-defined]
    return proc, output


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.pumper.join(5)  # type: ignore[attr-defined]
    if proc.stdout is not None:
        proc.stdout.close()
    out = ""
    lines: queue.Queue[str] = proc.lines  # type: ignore[attr-defined]
    while not lines.empty():
        out += lines.get()
    return out


def test_catalyst_ibkr_sim_command_serves_and_prints_url_and_fingerprint(tmp_path: Path) -> None:
    proc, output = _start([str(VENV_BIN / "catalyst-ibkr"), "sim", "--port", "0",
                           "--state-dir", str(tmp_path), "--seed", "7", "--tws-port", "0"])
    try:
        match = re.search(r"Client Portal API at (https://127\.0\.0\.1:\d+)/v1/api", output)
        assert match, output
        assert re.search(r"SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}", output), output
        ctx = ssl.create_default_context(cafile=str(tmp_path / "sim-cert.pem"))
        with httpx.Client(verify=ctx, timeout=5) as c:
            body = c.get(f"{match.group(1)}/v1/api/iserver/auth/status").json()
        assert body["authenticated"] is True
    finally:
        _stop(proc)
    assert re.search(r"TWS socket API at 127\.0\.0\.1:\d+", output), output
    assert proc.returncode == 0


def test_python_m_ibkr_sim_no_tls(tmp_path: Path) -> None:
    proc, output = _start([sys.executable, "-m", "ibkr_sim", "--port", "0", "--no-tls",
                           "--state-dir", str(tmp_path)])
    try:
        match = re.search(r"Client Portal API at (http://127\.0\.0\.1:\d+)/v1/api", output)
        assert match, output
        with httpx.Client(timeout=5) as c:
            assert c.get(f"{match.group(1)}/sim/state").status_code == 200
    finally:
        _stop(proc)


@pytest.mark.parametrize(
    "args",
    [["--market-hours", "sometimes"], ["--time-scale", "0"], ["--daily-reset", "25:99x"]],
)
def test_bad_flags_exit_2_with_a_message(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "catalyst-ibkr"), "sim", "--port", "0", "--state-dir", str(tmp_path),
         *args], capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip()
