"""Run-time guards: bind address vs keys, paper/live interlock."""

from __future__ import annotations

import pytest

from catalyst_ibkr.config import (
    is_loopback_host,
    is_paper_account,
    load_settings,
    mode_account_problem,
    service_bind_problem,
    time_scale_problem,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_non_loopback_bind_needs_both_keys() -> None:
    none = load_settings('[service]\nhost = "0.0.0.0"\n', {}, path="c.toml").settings
    problem = service_bind_problem(none)
    assert problem is not None
    assert "0.0.0.0" in problem and "CATALYST_API_KEY and CATALYST_ADMIN_KEY" in problem
    one = load_settings(None, {"CATALYST_API_KEY": "a" * 32}).settings
    problem = service_bind_problem(one, host="10.0.0.5")
    assert problem is not None and "CATALYST_ADMIN_KEY" in problem
    assert "CATALYST_API_KEY " not in problem
    both = load_settings(
        None, {"CATALYST_API_KEY": "a" * 32, "CATALYST_ADMIN_KEY": "b" * 32}
    ).settings
    assert service_bind_problem(both, host="0.0.0.0") is None


def test_loopback_bind_needs_no_keys() -> None:
    settings = load_settings(None, {}).settings
    assert service_bind_problem(settings) is None
    assert service_bind_problem(settings, host="::1") is None


@pytest.mark.parametrize(
    ("account", "paper"),
    [("DU1234567", True), ("DF123", True), ("U1234567", False), ("F9", False), ("du1", True)],
)
def test_paper_accounts(account: str, paper: bool) -> None:
    assert is_paper_account(account) is paper


def test_mode_account_interlock_for_flag_accounts() -> None:
    assert mode_account_problem("paper", None) is None
    assert mode_account_problem("paper", "DU1") is None
    assert mode_account_problem("paper", "U1") is not None
    assert mode_account_problem("live", "U1") is None
    assert mode_account_problem("live", None) is not None
    assert mode_account_problem("live", "DU1") is not None


def test_time_scale_guard_checks_a_flag_account_too() -> None:
    settings = load_settings("[pacing]\ntime_scale = 5\n", {}, path="c.toml").settings
    assert time_scale_problem(settings) is None
    assert time_scale_problem(settings, account="DU1") is None
    problem = time_scale_problem(settings, account="U7654321")
    assert problem is not None and "test-only" in problem


@pytest.mark.parametrize(
    ("url", "mode", "account", "warns"),
    [
        ("tws://127.0.0.1:4001", "paper", None, True),
        ("tws://127.0.0.1:7496", "paper", None, True),
        ("tws://127.0.0.1:4002", "paper", None, False),
        ("tws://127.0.0.1:4002", "live", "U1234567", True),
        ("tws://127.0.0.1:4001", "live", "U1234567", False),
        ("tws://127.0.0.1:9999", "paper", None, False),
        ("https://localhost:4001", "paper", None, False),
    ],
)
def test_tws_default_port_of_the_other_mode_warns(
    url: str, mode: str, account: str | None, warns: bool
) -> None:
    text = f'[gateway]\nurl = "{url}"\nmode = "{mode}"\n'
    if account is not None:
        text += f'account = "{account}"\n'
    loaded = load_settings(text, {}, path="c.toml")
    hints = [w for w in loaded.warnings if "default" in w and "port" in w]
    assert bool(hints) is warns
