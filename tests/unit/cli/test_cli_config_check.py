"""`catalyst-ibkr config check` run as a real process of the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "catalyst-ibkr"
REPO = Path(__file__).resolve().parents[3]
API = "api-9f8e7d6c5b4a3210"
ADMIN = "admin-0123456789abcdef"


def run(
    args: list[str], cwd: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # `make test` installs the console script first; a missing one is a broken install.
    assert SCRIPT.exists(), f"{SCRIPT} is not installed (run make install)"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "LANG": "C.UTF-8"}
    env.update(extra_env or {})
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_without_config_prints_defaults_and_says_so(tmp_path: Path) -> None:
    result = run(["config", "check"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No config file" in result.stdout and "conservative defaults" in result.stdout
    assert "https://localhost:5000" in result.stdout
    assert "[risk]" in result.stdout and "max_order_quantity" in result.stdout
    assert "Configuration is valid." in result.stdout


@pytest.mark.parametrize("where", ["global", "local"])
def test_json_is_exactly_one_document_with_sources(tmp_path: Path, where: str) -> None:
    (tmp_path / "catalyst-ibkr.toml").write_text(
        '[gateway]\naccount = "DU1234567"\n[pacing]\nguard_ms = 60\n', encoding="utf-8"
    )
    args = ["--json", "config", "check"] if where == "global" else ["config", "check", "--json"]
    result = run(
        args,
        tmp_path,
        {
            "CATALYST_PACING_GUARD_MS": "70",
            "IBEAM_URL": "https://ibeam:5000",
            "CATALYST_API_KEY": API,
        },
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole stdout is one document
    assert document["valid"] is True
    assert document["config_file"] == "catalyst-ibkr.toml"
    assert document["settings"]["pacing"]["guard_ms"] == 70
    assert document["sources"]["pacing"]["guard_ms"] == "env CATALYST_PACING_GUARD_MS"
    assert document["settings"]["gateway"]["url"] == "https://ibeam:5000"
    assert document["sources"]["gateway"]["url"] == "env IBEAM_URL"
    assert document["sources"]["gateway"]["account"] == "file"
    assert document["settings"]["service"]["api_key"] == "**********"
    assert document["settings"]["risk"]["max_order_quantity"] == "1000"
    assert API not in result.stdout + result.stderr


def test_flag_wins_and_is_shown_as_the_source(tmp_path: Path) -> None:
    result = run(
        ["--json", "--gateway", "tws://127.0.0.1:4002", "config", "check"],
        tmp_path,
        {"CATALYST_GATEWAY_URL": "https://env:5000"},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["settings"]["gateway"]["url"] == "tws://127.0.0.1:4002"
    assert document["sources"]["gateway"]["url"] == "flag --gateway"


def test_secrets_are_masked_in_the_table(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[alerts]\nwebhook_url = "https://hooks.slack.com/services/T0/B0/SeCrEtToKeN"\n'
        '[oms]\ndb_url = "postgresql+psycopg://me:DbPaSs@db/j"\n',
        encoding="utf-8",
    )
    result = run(
        ["config", "check", "--config", str(config)],
        tmp_path,
        {"CATALYST_API_KEY": API, "CATALYST_ADMIN_KEY": ADMIN},
    )
    assert result.returncode == 0, result.stderr
    everything = result.stdout + result.stderr
    for secret in (API, ADMIN, "SeCrEtToKeN", "DbPaSs"):
        assert secret not in everything
    assert "https://hooks.slack.com/**********" in result.stdout
    assert "postgresql+psycopg://me:**********@db/j" in result.stdout
    assert "env CATALYST_ADMIN_KEY" in result.stdout
    assert "prefer the environment variable CATALYST_ALERTS_WEBHOOK_URL" in result.stderr


def test_config_error_exits_2_with_message_on_stderr(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[gateway]\ntimeout = 5\n[pacing]\nguard_ms = "50"\n', encoding="utf-8")
    result = run(["config", "check", "--config", str(config)], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{config}: [gateway] timeout: unknown key" in result.stderr
    assert "did you mean 'timeout_s'?" in result.stderr
    assert f"{config}: [pacing] guard_ms: expected an integer, got string '50'" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_error_with_json_prints_one_error_document(tmp_path: Path) -> None:
    result = run(["--json", "config", "check"], tmp_path, {"CATALYST_SERVICE_PORT": "eighty"})
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert document["error"]["exit_code"] == 2
    assert document["error"]["issues"][0]["key"] == "[service] port"
    assert document["error"]["issues"][0]["origin"] == "env CATALYST_SERVICE_PORT"
    assert "[service] port" in result.stderr


def test_missing_explicit_file_exits_2(tmp_path: Path) -> None:
    result = run(["--config", "missing.toml", "config", "check"], tmp_path)
    assert result.returncode == 2
    assert "missing.toml: config file not found" in result.stderr


def test_shipped_example_is_accepted(tmp_path: Path) -> None:
    example = REPO / "examples" / "catalyst-ibkr.toml"
    result = run(["config", "check", "--config", str(example)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


def test_sim_table_is_checked_by_the_simulator(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[sim]\nno_such_sim_key = 1\n", encoding="utf-8")
    result = run(["config", "check", "--config", str(config)], tmp_path)
    assert result.returncode == 2
    assert "no_such_sim_key" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["config", "check", "--no-such-flag"],
        ["no-such-command"],
        ["--client-id", "abc", "config", "check"],
        ["config"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = run(args, tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
