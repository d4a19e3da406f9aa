"""Every error names the file, the key, what is wrong and what to write instead."""

from __future__ import annotations

import pytest

from catalyst_ibkr.config import ConfigError, Override, load_settings

PATH = "/etc/catalyst/catalyst-ibkr.toml"


def errors_of(text: str | None, env: dict[str, str] | None = None, **kw: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(text, env or {}, path=PATH, **kw)  # type: ignore[arg-type]
    message = str(info.value)
    for line in message.splitlines():
        assert line.startswith(PATH + ": "), line
    return message


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "[gateway]\ntimeout = 5\n",
            ["[gateway] timeout", "unknown key 'timeout'", "did you mean 'timeout_s'?"],
        ),
        (
            "[alert]\nslack = true\n",
            ["[alert]", "unknown section", "did you mean [alerts]?"],
        ),
        (
            'url = "https://x:1"\n',
            ["[url]", "did you mean [gateway] url?"],
        ),
        ("gateway = 5\n", ["[gateway]", "expected a table"]),
        (
            '[gateway]\ntimeout_s = "10"\n',
            ["[gateway] timeout_s", "expected a number, got string '10'", "without quotes"],
        ),
        (
            "[pacing]\nguard_ms = true\n",
            ["[pacing] guard_ms", "expected an integer, got boolean True"],
        ),
        ("[pacing]\nguard_ms = 1.5\n", ["[pacing] guard_ms", "expected an integer, got float"]),
        (
            '[questions]\nconfirm = "o163"\n',
            ["[questions] confirm", "expected a list of strings, got string", '["o163"]'],
        ),
        (
            "[questions]\nconfirm = [163]\n",
            ["[questions] confirm", "expected a list of strings, got array"],
        ),
        (
            '[questions]\nconfirm = ["o163", "please"]\n',
            ["[questions] confirm", "'please' is not an IBKR message id"],
        ),
        (
            '[gateway]\nmode = "lve"\n',
            ["[gateway] mode", 'expected one of "paper", "live", got \'lve\''],
        ),
        (
            "[pacing]\nsafety_margin = 1.5\n",
            ["[pacing] safety_margin", "less than or equal to 1", "got 1.5"],
        ),
        ("[pacing]\ntime_scale = 0\n", ["[pacing] time_scale", "greater than 0"]),
        ("[pacing]\npenalty_s = nan\n", ["[pacing] penalty_s", "finite"]),
        ("[service]\nport = 70000\n", ["[service] port", "less than or equal to 65535"]),
        ('[gateway]\nurl = "ftp://x:1"\n', ["[gateway] url", "https://, http:// or tws://"]),
        ('[gateway]\nurl = "tws://127.0.0.1"\n', ["[gateway] url", "needs a port"]),
        ('[gateway]\naccount = "DU 123"\n', ["[gateway] account", "letters and digits"]),
        ('[oms]\ndb_url = "mysql://h/db"\n', ["[oms] db_url", "sqlite:///PATH or postgresql"]),
        (
            '[watchdog]\ndaily_reset_timezone = "Mars/Olympus"\n',
            ["[watchdog] daily_reset_timezone", "unknown time zone"],
        ),
        ('[watchdog]\ndaily_reset_start = "25:00"\n', ["[watchdog] daily_reset_start", "HH:MM"]),
        ('[alerts]\nwebhook_url = "not a url"\n', ["[alerts] webhook_url", "http:// or https://"]),
        ("[gateway\nurl=1", ["not valid TOML", "line 1"]),
    ],
)
def test_file_errors_name_key_and_fix(text: str, fragments: list[str]) -> None:
    message = errors_of(text)
    for fragment in fragments:
        assert fragment in message


def test_all_problems_are_reported_together() -> None:
    message = errors_of("[gateway]\ntimeout = 5\nmode = 1\n[pacing]\nguard_ms = -1\n")
    assert "timeout" in message and "[gateway] mode" in message
    assert len(message.splitlines()) >= 2


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        (
            {"CATALYST_PACING_GUARD_MS": "abc"},
            [
                "[pacing] guard_ms",
                "expected an integer, got 'abc'",
                "set by env CATALYST_PACING_GUARD_MS",
            ],
        ),
        (
            {"CATALYST_GATEWAY_TIMEOUT_S": "inf"},
            ["[gateway] timeout_s", "finite", "CATALYST_GATEWAY_TIMEOUT_S"],
        ),
        (
            {"CATALYST_QUESTIONS_SUPPRESS": "maybe"},
            ["[questions] suppress", "true or false", "CATALYST_QUESTIONS_SUPPRESS"],
        ),
        (
            {"CATALYST_SERVICE_API_KY": "x"},
            [
                "env CATALYST_SERVICE_API_KY",
                "no key 'api_ky' in [service]",
                "did you mean CATALYST_SERVICE_API_KEY?",
            ],
        ),
        (
            {"CATALYST_PACING_SAFETY_MARGIN": "2"},
            [
                "[pacing] safety_margin",
                "less than or equal to 1",
                "set by env CATALYST_PACING_SAFETY_MARGIN",
            ],
        ),
        ({"CATALYST_SERVICE_HOST": ""}, ["[service] host", "empty value"]),
        ({"IBEAM_URL": "localhost:5000"}, ["[gateway] url", "set by env IBEAM_URL"]),
    ],
)
def test_env_errors_name_the_variable(env: dict[str, str], fragments: list[str]) -> None:
    message = errors_of(None, env)
    for fragment in fragments:
        assert fragment in message


def test_flag_errors_name_the_flag() -> None:
    message = errors_of(None, overrides=[Override("gateway.url", "nope", "flag --gateway")])
    assert "[gateway] url" in message and "set by flag --gateway" in message


def test_message_without_a_file_says_so() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, {"CATALYST_PACING_GUARD_MS": "x"})
    assert str(info.value).startswith("(no config file; defaults): [pacing] guard_ms")


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("[service]\napi_key = 123456789\n", {}),
        (None, {"CATALYST_SERVICE_PORT": "x", "CATALYST_API_KEY": "zz-top-secret"}),
        ('[alerts]\nwebhook_url = "hooks.example/T0/zz-top-secret"\n', {}),
    ],
)
def test_errors_never_echo_secret_values(text: str | None, env: dict[str, str]) -> None:
    message = errors_of(text, env)
    assert "123456789" not in message
    assert "zz-top-secret" not in message


def test_live_mode_needs_a_live_account() -> None:
    message = errors_of('[gateway]\nmode = "live"\n')
    assert "[gateway] mode" in message and "explicit live account id" in message
    message = errors_of('[gateway]\nmode = "live"\naccount = "DU1234567"\n')
    assert "paper account" in message


def test_a_live_account_needs_live_mode_on_purpose() -> None:
    message = errors_of('[gateway]\naccount = "U1234567"\n')
    assert 'live account but mode is "paper"' in message


def test_live_mode_with_live_account_is_accepted() -> None:
    loaded = load_settings('[gateway]\nmode = "live"\naccount = "U1234567"\n', {}, path=PATH)
    assert loaded.settings.gateway.mode == "live"


def test_time_scale_is_refused_with_live_mode() -> None:
    text = '[gateway]\nmode = "live"\naccount = "U1234567"\n[pacing]\ntime_scale = 10\n'
    message = errors_of(text)
    assert "[pacing] time_scale" in message and "test-only" in message
    paper = load_settings("[pacing]\ntime_scale = 10\n", {}, path=PATH)
    assert paper.settings.pacing.time_scale == 10


def test_time_scale_from_env_names_the_variable_when_refused() -> None:
    env = {"CATALYST_PACING_TIME_SCALE": "50"}
    message = errors_of('[gateway]\nmode = "live"\naccount = "U1234567"\n', env)
    assert "set by env CATALYST_PACING_TIME_SCALE" in message


def test_risk_errors_come_from_the_core_with_the_file_path() -> None:
    message = errors_of("[risk]\nmax_order_quantty = 5\n")
    assert "[risk] max_order_quantty" in message
    assert "did you mean 'max_order_quantity'?" in message
    message = errors_of("[risk]\nmax_order_quantity = -5\n")
    assert "[risk] max_order_quantity" in message and "greater than zero" in message
    message = errors_of(None, {"CATALYST_RISK_MAX_ORDER_NOTIONAL": "lots"})
    assert "[risk] max_order_notional" in message
    assert "set by env CATALYST_RISK_MAX_ORDER_NOTIONAL" in message


def test_risk_values_reach_the_core_limits() -> None:
    from decimal import Decimal

    loaded = load_settings(
        "[risk]\nmax_order_quantity = 10\n",
        {"CATALYST_RISK_MAX_ORDERS_PER_SECOND": "5"},
        path=PATH,
    )
    limits = loaded.settings.risk.limits
    assert limits.max_order_quantity == Decimal("10")
    assert limits.max_orders_per_second == 5
    assert loaded.source_of("risk", "max_order_quantity") == "file"
    assert loaded.source_of("risk", "max_orders_per_second") == (
        "env CATALYST_RISK_MAX_ORDERS_PER_SECOND"
    )


@pytest.mark.parametrize("zone", ["America", "Etc", "Mars/Olympus"])
def test_time_zone_that_is_a_directory_is_a_config_error(zone: str) -> None:
    message = errors_of(None, {"CATALYST_WATCHDOG_DAILY_RESET_TIMEZONE": zone})
    assert "[watchdog] daily_reset_timezone" in message and "unknown time zone" in message
    text = f'[risk]\ntrading_hours = "09:30-16:00"\ntrading_timezone = "{zone}"\n'
    message = errors_of(text)
    assert "[risk] trading_timezone" in message and "time zone" in message
