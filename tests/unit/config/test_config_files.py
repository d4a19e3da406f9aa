"""Reading files: default ./catalyst-ibkr.toml, explicit paths, the shipped example, the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalyst_ibkr.config import ConfigError, read_settings
from catalyst_ibkr.config.loader import ENV_ALIASES, env_var_name
from catalyst_ibkr.config.reference import render_reference
from catalyst_ibkr.config.settings import SECTION_MODELS, SECTIONS

REPO = Path(__file__).resolve().parents[3]


def test_default_file_in_cwd_is_used(tmp_path: Path) -> None:
    (tmp_path / "catalyst-ibkr.toml").write_text("[service]\nport = 9001\n", encoding="utf-8")
    loaded = read_settings(None, {}, cwd=tmp_path)
    assert loaded.settings.service.port == 9001
    assert loaded.path == tmp_path / "catalyst-ibkr.toml"


def test_missing_default_file_means_defaults(tmp_path: Path) -> None:
    loaded = read_settings(None, {}, cwd=tmp_path)
    assert loaded.path is None
    assert loaded.settings.service.port == 8080


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        read_settings(missing, {})
    assert str(info.value) == f"{missing}: config file not found"


def test_directory_and_bad_encoding_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        read_settings(tmp_path, {})
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[gateway]\nurl = "\xff"\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: not UTF-8"):
        read_settings(bad, {})


def test_error_messages_carry_the_path(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[gateway]\ntimeout_s = "5"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_settings(path, {})
    assert str(info.value).startswith(f"{path}: [gateway] timeout_s: expected a number")


def test_shipped_example_is_valid_and_sets_every_section() -> None:
    example = REPO / "examples" / "catalyst-ibkr.toml"
    loaded = read_settings(example, {"HOME": "/home/t"})
    assert loaded.warnings == ()
    sections_in_file = {key.split(".")[0] for key in loaded.sources}
    assert sections_in_file == set(SECTIONS)
    assert loaded.settings.gateway.account == "DU1234567"


def test_docs_reference_matches_the_code() -> None:
    docs = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- BEGIN GENERATED KEY REFERENCE -->\n(.*)<!-- END GENERATED KEY REFERENCE -->",
        docs,
        re.DOTALL,
    )
    assert match is not None, "docs/configuration.md lost its generated-reference markers"
    assert match.group(1) == render_reference(), (
        "docs/configuration.md is out of date: regenerate the block with "
        "`python -m catalyst_ibkr.config.reference`"
    )


def test_docs_name_every_key_and_env_var() -> None:
    docs = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section, model in SECTION_MODELS.items():
        assert f"`[{section}]`" in docs
        for key in model.model_fields:
            assert f"| `{key}` |" in docs
            assert env_var_name(section, key) in docs
    for alias in ENV_ALIASES:
        assert alias in docs
    for name in ("IBEAM_URL", "IBEAM_ACCOUNT", "IBEAM_PASSWORD"):
        assert name in docs
