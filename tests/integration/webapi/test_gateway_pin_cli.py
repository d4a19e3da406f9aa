"""``catalyst-ibkr gateway pin URL`` against the simulator's certificate (real TLS socket)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalyst_ibkr.adapters.webapi.tls import PinStore
from catalyst_ibkr.cli.main import app
from ibkr_sim.tls import fingerprint_sha256
from sim_fixtures import RunningSim


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray ./catalyst-ibkr.toml
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("CATALYST_GATEWAY_PINS_FILE", raising=False)
    monkeypatch.delenv("CATALYST_GATEWAY_PIN_STORE", raising=False)
    return CliRunner()


def test_pin_stores_the_sim_fingerprint(runner: CliRunner, sim: RunningSim, tmp_path: Path) -> None:
    assert sim.ca_file is not None
    result = runner.invoke(app, ["--json", "gateway", "pin", sim.base_url, "--yes"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    expected = fingerprint_sha256(sim.ca_file.read_bytes())
    assert doc["fingerprint_sha256"] == expected and doc["changed"] is True
    store = tmp_path / "config" / "catalyst-ibkr" / "pins.json"
    port = int(sim.base_url.rsplit(":", 1)[1])
    pinned = PinStore(store).get("127.0.0.1", port)
    assert pinned is not None and pinned.fingerprint == expected

    again = runner.invoke(app, ["--json", "gateway", "pin", sim.base_url])
    assert again.exit_code == 0 and json.loads(again.stdout)["changed"] is False


def test_pin_needs_yes_without_a_terminal(
    runner: CliRunner, sim: RunningSim, tmp_path: Path
) -> None:
    store = tmp_path / "pins.json"
    result = runner.invoke(app, ["gateway", "pin", sim.base_url, "--pin-store", str(store)])
    assert result.exit_code == 2
    assert "--yes" in result.stderr and not store.exists()


def test_pin_refuses_http_and_reports_unreachable(runner: CliRunner) -> None:
    result = runner.invoke(app, ["gateway", "pin", "http://127.0.0.1:5000", "--yes"])
    assert result.exit_code == 2 and "no certificate" in result.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = runner.invoke(app, ["gateway", "pin", f"https://127.0.0.1:{port}", "--yes"])
    assert result.exit_code == 4 and "could not fetch" in result.stderr
