"""`serve` refuses unsafe binds; `kill` through the admin API with its exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api_fakes import FakeService
from api_server import serve_in_thread

from catalyst_ibkr.api import ApiKeys, create_app
from catalyst_ibkr.api.app import running
from conftest import ADMIN_KEY, API_KEY, RunningApi

CLI = str(Path(sys.executable).parent / "catalyst-ibkr")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CATALYST_", "IBEAM_"))}
    env.update(extra)
    return env


def _cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env=_env(**env), stdin=subprocess.DEVNULL)


def test_serve_refuses_non_loopback_without_keys(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.10"):
        r = _cli("serve", "--host", host, "--db", f"sqlite:///{tmp_path}/x.db", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert f"refusing to bind {host}" in r.stderr and "CATALYST_API_KEY" in r.stderr
    r = _cli("serve", "--host", "0.0.0.0", cwd=tmp_path, CATALYST_API_KEY=API_KEY)
    assert r.returncode == 2 and "CATALYST_ADMIN_KEY" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "x.db").exists()  # refused before anything was created


def test_serve_rejects_bad_flags_with_exit_2(tmp_path: Path) -> None:
    r = _cli("serve", "--db", "mysql://nope", cwd=tmp_path)
    assert r.returncode == 2 and "db_url" in r.stderr and "Traceback" not in r.stderr
    r = _cli("serve", "--port", "70000", cwd=tmp_path)
    assert r.returncode == 2 and "port" in r.stderr


def test_kill_halts_and_reports_verified(keyed_api: RunningApi, tmp_path: Path) -> None:
    keyed_api.client.post("/v1/signals", headers={"Authorization": f"Bearer {API_KEY}"},
                          json={"id": "k1", "symbol": "AAPL", "side": "BUY", "quantity": "1",
                                "order_type": "MKT"})
    r = _cli("--json", "kill", "--yes", "--service", keyed_api.url, cwd=tmp_path,
             CATALYST_ADMIN_KEY=ADMIN_KEY)
    assert r.returncode == 0, r.stderr
    assert '"verified": true' in r.stdout and '"trading_state": "HALTED"' in r.stdout
    assert keyed_api.fake.state == "HALTED" and keyed_api.fake.state_actor == "admin-key"
    assert all(o.status == "CANCELLED" for o in keyed_api.fake.orders.values())


def test_kill_needs_yes_without_terminal_and_the_admin_key(
    keyed_api: RunningApi, tmp_path: Path
) -> None:
    r = _cli("kill", "--service", keyed_api.url, cwd=tmp_path, CATALYST_ADMIN_KEY=ADMIN_KEY)
    assert r.returncode == 2 and "--yes" in r.stderr
    r = _cli("kill", "--yes", "--service", keyed_api.url, cwd=tmp_path,
             CATALYST_ADMIN_KEY=API_KEY)
    assert r.returncode == 2 and "admin key" in r.stderr
    r = _cli("kill", "--yes", "--service", keyed_api.url, cwd=tmp_path)
    assert r.returncode == 2 and "CATALYST_ADMIN_KEY" in r.stderr
    assert keyed_api.fake.state == "ACTIVE"


def test_kill_unreachable_is_4_and_unverified_is_3(tmp_path: Path) -> None:
    r = _cli("kill", "--yes", "--service", "http://127.0.0.1:9", cwd=tmp_path)
    assert r.returncode == 4 and "cannot reach the service" in r.stderr

    class Unverified(FakeService):
        async def kill(self, *, actor: str):  # type: ignore[no-untyped-def]
            report = await super().kill(actor=actor)
            from dataclasses import replace
            return replace(report, verified=False)

    fake = Unverified()
    app = create_app(lambda: running(fake), keys=ApiKeys(admin_key=ADMIN_KEY))
    with serve_in_thread(app) as url:
        r = _cli("kill", "--yes", "--service", url, cwd=tmp_path, CATALYST_ADMIN_KEY=ADMIN_KEY)
    assert r.returncode == 3 and "not verified" in r.stderr


def test_serve_on_a_taken_port_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = _cli("serve", "--port", str(port), "--db", f"sqlite:///{tmp_path}/x.db",
                 cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.db").exists()  # refused before the journal was touched
