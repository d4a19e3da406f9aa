"""Gateway resolution: --gateway, then config (env over file), then IBEAM_URL, then default."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from catalyst_ibkr.cli.context import (
    DEFAULT_GATEWAY_URL,
    load_cli_settings,
    resolve_account,
    resolve_gateway,
)
from catalyst_ibkr.cli.main import GlobalOptions
from catalyst_ibkr.cli.output import Output
from catalyst_ibkr.config import ConfigError, load_settings


def options(
    gateway: str | None = None, account: str | None = None, config: Path | None = None
) -> GlobalOptions:
    return GlobalOptions(
        gateway=gateway,
        account=account,
        json=False,
        insecure=False,
        ca=None,
        config=config,
        client_id=1,
    )


@dataclass
class Case:
    file_url: str | None
    env: dict[str, str]
    flag: str | None
    expected: str
    source: str


CASES = [
    Case(None, {}, None, DEFAULT_GATEWAY_URL, "default"),
    Case(None, {"IBEAM_URL": "https://ibeam:5000"}, None, "https://ibeam:5000", "env IBEAM_URL"),
    Case("https://cfg:5000", {"IBEAM_URL": "https://ibeam:5000"}, None, "https://cfg:5000", "file"),
    Case(
        "https://cfg:5000",
        {"IBEAM_URL": "https://ibeam:5000", "CATALYST_GATEWAY_URL": "https://envcfg:5000"},
        None,
        "https://envcfg:5000",
        "env CATALYST_GATEWAY_URL",
    ),
    Case(
        "https://cfg:5000",
        {"IBEAM_URL": "https://ibeam:5000", "CATALYST_GATEWAY_URL": "https://envcfg:5000"},
        "tws://127.0.0.1:4002",
        "tws://127.0.0.1:4002",
        "flag --gateway",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.source for c in CASES])
def test_resolve_gateway_precedence(case: Case, tmp_path: Path) -> None:
    config = None
    if case.file_url is not None:
        config = tmp_path / "c.toml"
        config.write_text(f'[gateway]\nurl = "{case.file_url}"\n', encoding="utf-8")
    opts = options(gateway=case.flag, config=config)
    out = Output(False, stdout=io.StringIO(), stderr=io.StringIO())
    loaded = load_cli_settings(opts, out, env=case.env, cwd=tmp_path)
    choice = resolve_gateway(opts, loaded)
    assert (choice.url, choice.source) == (case.expected, case.source)
    # Also when the settings were loaded without the flag layer:
    bare = load_settings(config.read_text() if config else None, case.env, path=config)
    choice = resolve_gateway(opts, bare)
    assert (choice.url, choice.source) == (case.expected, case.source)


def test_bad_gateway_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_gateway(options(gateway="localhost:5000"), load_settings(None, {}))
    assert str(info.value).startswith("(no config file; defaults): [gateway] url: ")
    assert "set by flag --gateway" in str(info.value)


def test_load_cli_settings_exits_2_with_the_problems_on_stderr(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[gateway]\ntimeout = 3\n", encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(typer.Exit) as info:
        load_cli_settings(
            options(config=config), Output(False, stdout=stdout, stderr=stderr), env={}
        )
    assert info.value.exit_code == 2
    assert f"{config}: [gateway] timeout: unknown key" in stderr.getvalue()
    assert "did you mean 'timeout_s'" in stderr.getvalue()
    assert stdout.getvalue() == ""


def test_flag_account_passes_the_interlock(tmp_path: Path) -> None:
    stderr = io.StringIO()
    out = Output(False, stdout=io.StringIO(), stderr=stderr)
    with pytest.raises(typer.Exit) as info:
        load_cli_settings(options(account="U1234567"), out, env={}, cwd=tmp_path)
    assert info.value.exit_code == 2
    assert "live account" in stderr.getvalue() and "flag --account" in stderr.getvalue()
    loaded = load_cli_settings(options(account="DU7777777"), out, env={}, cwd=tmp_path)
    assert resolve_account(options(account="DU7777777"), loaded) == "DU7777777"
    assert resolve_account(options(), load_settings(None, {})) is None


def _run_check(args: list[str], env: dict[str, str]) -> dict[str, object]:
    import json

    from typer.testing import CliRunner

    from catalyst_ibkr.cli.main import app

    result = CliRunner().invoke(app, [*args, "--json", "config", "check"], env=env)
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_client_id_flag_wins_only_when_typed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"CATALYST_GATEWAY_CLIENT_ID": "5", "HOME": str(tmp_path)}
    untyped = _run_check([], env)
    assert untyped["settings"]["gateway"]["client_id"] == 5  # type: ignore[index]
    typed = _run_check(["--client-id", "1"], env)
    assert typed["settings"]["gateway"]["client_id"] == 1  # type: ignore[index]
    assert typed["sources"]["gateway"]["client_id"] == "flag --client-id"  # type: ignore[index]
