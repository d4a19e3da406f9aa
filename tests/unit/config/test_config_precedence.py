"""Precedence: default < IBEAM_URL < file < CATALYST_* env < flag, with the source recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst_ibkr.config import ConfigError, Override, load_settings

FILE = """
[gateway]
url = "https://file-host:5000"
timeout_s = 20
"""


def test_defaults_without_file_or_env_are_conservative() -> None:
    loaded = load_settings(None, {})
    s = loaded.settings
    assert loaded.path is None
    assert loaded.sources == {}
    assert s.gateway.url == "https://localhost:5000"
    assert s.gateway.mode == "paper"
    assert s.gateway.account is None
    assert s.pacing.safety_margin == 0.95
    assert s.pacing.guard_ms == 50
    assert s.pacing.time_scale == 1.0
    assert s.pacing.penalty_s == 900
    assert s.questions.confirm == (
        "o163",
        "o354",
        "o403",
        "o10151",
        "o10152",
        "o10153",
        "o10331",
    )
    assert "o383" not in s.questions.confirm and "o451" not in s.questions.confirm
    assert s.oms.db_url.get_secret_value() == "sqlite:///./catalyst-ibkr.db"
    assert s.oms.default_ttl_s == 60
    assert s.service.host == "127.0.0.1"
    assert s.service.port == 8080
    assert s.service.api_key is None and s.service.admin_key is None
    assert s.watchdog.docker_restart is False
    assert s.alerts.webhook_url is None


@pytest.mark.parametrize(
    ("text", "env", "overrides", "expected_url", "expected_source"),
    [
        (None, {}, [], "https://localhost:5000", "default"),
        (None, {"IBEAM_URL": "https://ibeam:5000"}, [], "https://ibeam:5000", "env IBEAM_URL"),
        (FILE, {"IBEAM_URL": "https://ibeam:5000"}, [], "https://file-host:5000", "file"),
        (
            FILE,
            {"IBEAM_URL": "https://ibeam:5000", "CATALYST_GATEWAY_URL": "http://env-host:5001"},
            [],
            "http://env-host:5001",
            "env CATALYST_GATEWAY_URL",
        ),
        (
            FILE,
            {"IBEAM_URL": "https://ibeam:5000", "CATALYST_GATEWAY_URL": "http://env-host:5001"},
            [Override("gateway.url", "tws://127.0.0.1:4002", "flag --gateway")],
            "tws://127.0.0.1:4002",
            "flag --gateway",
        ),
    ],
)
def test_gateway_url_precedence(
    text: str | None,
    env: dict[str, str],
    overrides: list[Override],
    expected_url: str,
    expected_source: str,
) -> None:
    loaded = load_settings(text, env, path="c.toml" if text else None, overrides=overrides)
    assert loaded.settings.gateway.url == expected_url
    assert loaded.source_of("gateway", "url") == expected_source


def test_generic_key_precedence_default_file_env_flag() -> None:
    assert load_settings(None, {}).settings.gateway.timeout_s == 10.0
    from_file = load_settings(FILE, {}, path="c.toml")
    assert from_file.settings.gateway.timeout_s == 20.0
    assert from_file.source_of("gateway", "timeout_s") == "file"
    env = {"CATALYST_GATEWAY_TIMEOUT_S": "30"}
    from_env = load_settings(FILE, env, path="c.toml")
    assert from_env.settings.gateway.timeout_s == 30.0
    assert from_env.source_of("gateway", "timeout_s") == "env CATALYST_GATEWAY_TIMEOUT_S"
    from_flag = load_settings(
        FILE, env, path="c.toml", overrides=[Override("gateway.timeout_s", 40, "flag --timeout")]
    )
    assert from_flag.settings.gateway.timeout_s == 40.0
    assert from_flag.source_of("gateway", "timeout_s") == "flag --timeout"


@pytest.mark.parametrize(
    ("name", "text", "section", "key", "expected"),
    [
        ("CATALYST_PACING_GUARD_MS", "75", "pacing", "guard_ms", 75),
        ("CATALYST_PACING_SAFETY_MARGIN", "0.5", "pacing", "safety_margin", 0.5),
        ("CATALYST_QUESTIONS_CONFIRM", "o163, o354", "questions", "confirm", ("o163", "o354")),
        ("CATALYST_QUESTIONS_SUPPRESS", "off", "questions", "suppress", False),
        ("CATALYST_WATCHDOG_DOCKER_RESTART", "yes", "watchdog", "docker_restart", True),
        ("CATALYST_SERVICE_PORT", "9000", "service", "port", 9000),
        ("CATALYST_GATEWAY_ACCOUNT", "DU7654321", "gateway", "account", "DU7654321"),
        ("CATALYST_GATEWAY_MODE", "paper", "gateway", "mode", "paper"),
    ],
)
def test_env_values_are_parsed_by_the_key_type(
    name: str, text: str, section: str, key: str, expected: object
) -> None:
    loaded = load_settings(None, {name: text})
    assert getattr(getattr(loaded.settings, section), key) == expected
    assert loaded.source_of(section, key) == f"env {name}"


def test_empty_env_value_unsets_an_optional_key() -> None:
    text = '[gateway]\naccount = "DU1234567"\n'
    loaded = load_settings(text, {"CATALYST_GATEWAY_ACCOUNT": ""}, path="c.toml")
    assert loaded.settings.gateway.account is None


def test_service_keys_come_from_the_interface_names() -> None:
    env = {"CATALYST_API_KEY": "api-secret-1", "CATALYST_ADMIN_KEY": "admin-secret-2"}
    loaded = load_settings(None, env)
    service = loaded.settings.service
    assert service.api_key is not None and service.api_key.get_secret_value() == "api-secret-1"
    assert service.admin_key is not None
    assert service.admin_key.get_secret_value() == "admin-secret-2"
    assert loaded.source_of("service", "api_key") == "env CATALYST_API_KEY"


def test_generic_and_interface_key_names_must_agree() -> None:
    env = {"CATALYST_API_KEY": "one", "CATALYST_SERVICE_API_KEY": "two"}
    with pytest.raises(ConfigError) as info:
        load_settings(None, env)
    message = str(info.value)
    assert "CATALYST_API_KEY and CATALYST_SERVICE_API_KEY are both set" in message
    assert "one" not in message.replace("only one", "") and "two" not in message
    same = {"CATALYST_API_KEY": "same", "CATALYST_SERVICE_API_KEY": "same"}
    assert load_settings(None, same).settings.service.api_key is not None


def test_ibeam_login_variables_are_never_read() -> None:
    """IBEAM_ACCOUNT is IBeam's login user name and IBEAM_PASSWORD its password: not ours."""
    env = {"IBEAM_ACCOUNT": "paperuser42", "IBEAM_PASSWORD": "hunter2-pw"}
    loaded = load_settings(None, env)
    assert loaded.settings.gateway.account is None
    everything = repr(loaded) + loaded.settings.model_dump_json() + str(loaded.sources)
    assert "paperuser42" not in everything
    assert "hunter2-pw" not in everything


def test_home_is_expanded_and_state_dirs_follow_xdg() -> None:
    env = {"HOME": "/home/trader", "XDG_STATE_HOME": "/var/state"}
    loaded = load_settings('[gateway]\nca_file = "~/gw.pem"\n', env, path="c.toml")
    assert str(loaded.settings.gateway.ca_file) == "/home/trader/gw.pem"
    assert str(loaded.settings.pacing.state_dir) == "/var/state/catalyst-ibkr"
    assert str(loaded.settings.gateway.pin_store) == "/home/trader/.config/catalyst-ibkr/pins.json"
    assert loaded.source_of("pacing", "state_dir") == "default"


def test_settings_are_frozen() -> None:
    from pydantic import ValidationError

    settings = load_settings(None, {}).settings
    with pytest.raises(ValidationError):
        settings.gateway.url = "https://elsewhere:1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.risk.table["max_order_quantity"] = 1  # type: ignore[index]


def test_the_sim_table_belongs_to_the_simulator() -> None:
    loaded = load_settings("[sim]\ntime_scale = 10\n", {}, path="c.toml")
    assert loaded.settings.pacing.time_scale == 1.0


def test_unknown_catalyst_env_section_is_a_warning_with_a_suggestion() -> None:
    loaded = load_settings(None, {"CATALYST_GATWAY_URL": "https://x:1"})
    assert loaded.settings.gateway.url == "https://localhost:5000"
    assert any("CATALYST_GATWAY_URL" in w and "CATALYST_GATEWAY_URL" in w for w in loaded.warnings)


def test_pins_file_name_used_by_the_tls_module_is_an_alias() -> None:
    loaded = load_settings(None, {"CATALYST_GATEWAY_PINS_FILE": "/srv/pins.json"})
    assert str(loaded.settings.gateway.pin_store) == "/srv/pins.json"
    assert loaded.source_of("gateway", "pin_store") == "env CATALYST_GATEWAY_PINS_FILE"
    clash = {"CATALYST_GATEWAY_PINS_FILE": "/a.json", "CATALYST_GATEWAY_PIN_STORE": "/b.json"}
    with pytest.raises(ConfigError, match="both set and differ"):
        load_settings(None, clash)


def test_db_url_name_used_by_the_migrations_is_an_alias(tmp_path: Path) -> None:
    loaded = load_settings(None, {"CATALYST_DB_URL": "sqlite:///x.db"})
    assert loaded.settings.oms.db_url.get_secret_value() == "sqlite:///x.db"
    secret = tmp_path / "db"
    secret.write_text("postgresql+psycopg://u:pw@h/j\n", encoding="utf-8")
    from_file = load_settings(None, {"CATALYST_DB_URL_FILE": str(secret)})
    assert from_file.settings.oms.db_url.get_secret_value() == "postgresql+psycopg://u:pw@h/j"
    assert from_file.source_of("oms", "db_url") == "env CATALYST_DB_URL_FILE"


def test_settings_built_directly_are_the_loaders_defaults() -> None:
    """A library user may build `Settings()` without the loader: it must work (the risk
    table's read-only mapping once made it fail) and mean the same defaults."""
    from catalyst_ibkr.config import Settings

    direct = Settings()
    assert direct == load_settings(None, {}).settings
    assert direct.risk.limits == load_settings(None, {}).settings.risk.limits
    assert Settings().risk is not direct.risk  # each instance owns its sections
