"""Secrets handed over as files (``*_FILE``), the no-risk-module fallback, and robustness."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst_ibkr.config import ConfigError, load_settings
from catalyst_ibkr.config.env import env_var_name
from catalyst_ibkr.config.settings import SECTION_MODELS


def test_secret_file_variables_are_read(tmp_path: Path) -> None:
    key_file = tmp_path / "api_key"
    key_file.write_text("file-api-key-123\n", encoding="utf-8")
    hook_file = tmp_path / "hook"
    hook_file.write_text("https://hooks.example/T/B/tok\n", encoding="utf-8")
    env = {
        "CATALYST_API_KEY_FILE": str(key_file),
        "CATALYST_ALERTS_WEBHOOK_URL_FILE": str(hook_file),
    }
    loaded = load_settings(None, env)
    api_key = loaded.settings.service.api_key
    assert api_key is not None and api_key.get_secret_value() == "file-api-key-123"
    hook = loaded.settings.alerts.webhook_url
    assert hook is not None and hook.get_secret_value() == "https://hooks.example/T/B/tok"
    assert loaded.source_of("service", "api_key") == "env CATALYST_API_KEY_FILE"
    assert loaded.source_of("alerts", "webhook_url") == "env CATALYST_ALERTS_WEBHOOK_URL_FILE"


def test_secret_file_problems_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, {"CATALYST_ADMIN_KEY_FILE": str(tmp_path / "missing")})
    assert "env CATALYST_ADMIN_KEY_FILE: cannot read the secret file" in str(info.value)
    both = {"CATALYST_ADMIN_KEY": "x", "CATALYST_ADMIN_KEY_FILE": str(tmp_path)}
    with pytest.raises(ConfigError, match="both set; set only one"):
        load_settings(None, both)


def test_secret_files_use_the_injected_reader() -> None:
    seen: list[str] = []

    def reader(path: str) -> str:
        seen.append(path)
        return "k-from-reader"

    loaded = load_settings(
        None, {"CATALYST_SERVICE_API_KEY_FILE": "/run/secrets/k"}, read_file=reader
    )
    assert seen == ["/run/secrets/k"]
    assert loaded.settings.service.api_key is not None


def test_file_variant_exists_only_for_secrets() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, {"CATALYST_GATEWAY_URL_FILE": "/x"})
    assert "only secrets can be read from a file" in str(info.value)
    assert "set CATALYST_GATEWAY_URL directly" in str(info.value)


def test_the_risk_table_is_kept_raw_and_validated_once() -> None:
    loaded = load_settings("[risk]\nmax_order_quantity = 5\n", {}, path="c.toml")
    assert dict(loaded.settings.risk.table) == {"max_order_quantity": 5}
    assert loaded.settings.risk.limits is loaded.settings.risk.limits
    assert str(loaded.settings.risk.limits.max_order_quantity) == "5"
    with pytest.raises(ConfigError, match=r"c\.toml: \[risk\] nested: "):
        load_settings("[risk.nested]\na = 1\n", {}, path="c.toml")


_KEYS = [(s, k) for s, model in SECTION_MODELS.items() for k in model.model_fields]
_toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
)


#: Values that once crashed or are easy to get wrong (directories as zones, huge numbers...).
_TRICKY = [
    "America",
    "Etc",
    "..",
    "/",
    "~",
    "~/",
    "0",
    "-1",
    "1e400",
    "nan",
    "-inf",
    "0x10",
    "1_000",
    " 5 ",
    "true",
    "None",
    "null",
    "[]",
    ",",
    "o163,,o354",
    "25:00",
    "http://",
    "tws://h",
    "https://:5000",
    "sqlite://",
    "\x00",
]


@given(key=st.sampled_from(_KEYS), text=st.one_of(st.text(max_size=40), st.sampled_from(_TRICKY)))
def test_any_env_text_loads_or_raises_config_error(key: tuple[str, str], text: str) -> None:
    section, name = key
    try:
        load_settings(None, {env_var_name(section, name): text})
    except ConfigError as exc:
        assert f"[{section}] {name}" in str(exc) or env_var_name(section, name) in str(exc)


@given(key=st.sampled_from(_KEYS), value=_toml_scalars)
def test_any_file_value_loads_or_raises_config_error(key: tuple[str, str], value: object) -> None:
    section, name = key
    text = _toml_line(section, name, value)
    try:
        load_settings(text, {}, path="p.toml")
    except ConfigError as exc:
        assert str(exc).startswith("p.toml: ")


def _toml_line(section: str, key: str, value: object) -> str:
    import json
    import math

    if isinstance(value, bool):
        literal = "true" if value else "false"
    elif isinstance(value, float):
        if math.isnan(value):
            literal = "nan"
        elif math.isinf(value):
            literal = "inf" if value > 0 else "-inf"
        else:
            literal = repr(value)
    elif isinstance(value, int):
        literal = str(value)
    else:
        literal = json.dumps(value)  # strings and lists of strings are valid TOML this way
    return f"[{section}]\n{key} = {literal}\n"


def test_every_key_with_every_tricky_value_ends_in_settings_or_config_error() -> None:
    crashes = []
    for section, name in _KEYS:
        for text in _TRICKY:
            try:
                load_settings(None, {env_var_name(section, name): text})
            except ConfigError:
                pass
            except Exception as exc:  # collecting every crash is the point
                crashes.append(f"{env_var_name(section, name)}={text!r}: {exc!r}")
    assert crashes == []
