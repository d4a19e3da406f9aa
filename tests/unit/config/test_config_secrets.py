"""Secrets are masked in repr, str, model_dump and JSON, and still usable where needed."""

from __future__ import annotations

import json

import pytest

from catalyst_ibkr.config import MASK, DatabaseUrl, WebhookUrl, load_settings
from catalyst_ibkr.config.describe import effective_document, effective_values

API = "api-key-0123456789abcdef"
ADMIN = "admin-key-fedcba9876543210"
HOOK = "https://hooks.slack.com/services/T000/B000/tokenXYZ987"
DB = "postgresql+psycopg://trader:db-pass-777@db.internal:5432/journal"


@pytest.fixture
def loaded():  # type: ignore[no-untyped-def]
    text = f'[oms]\ndb_url = "{DB}"\n[alerts]\nwebhook_url = "{HOOK}"\n'
    env = {"CATALYST_API_KEY": API, "CATALYST_ADMIN_KEY": ADMIN}
    return load_settings(text, env, path="c.toml")


def _leaks(text: str) -> list[str]:
    return [s for s in (API, ADMIN, "tokenXYZ987", "db-pass-777") if s in text]


def test_secret_values_are_usable(loaded) -> None:  # type: ignore[no-untyped-def]
    s = loaded.settings
    assert s.service.api_key.get_secret_value() == API
    assert s.service.admin_key.get_secret_value() == ADMIN
    assert s.alerts.webhook_url.get_secret_value() == HOOK
    assert s.oms.db_url.get_secret_value() == DB


def test_masked_in_repr_str_and_dumps(loaded) -> None:  # type: ignore[no-untyped-def]
    s = loaded.settings
    texts = [
        repr(s),
        str(s),
        repr(loaded),
        str(s.model_dump()),
        s.model_dump_json(),
        json.dumps(s.model_dump(mode="json")),
        repr(s.oms.db_url),
        str(s.alerts.webhook_url),
        json.dumps(effective_document(loaded)),
        repr(effective_values(loaded)),
    ]
    for text in texts:
        assert _leaks(text) == [], text


def test_urls_keep_what_operators_need(loaded) -> None:  # type: ignore[no-untyped-def]
    s = loaded.settings
    assert s.oms.db_url.masked == f"postgresql+psycopg://trader:{MASK}@db.internal:5432/journal"
    assert s.alerts.webhook_url.masked == f"https://hooks.slack.com/{MASK}"
    assert DatabaseUrl("sqlite:///./x.db").masked == "sqlite:///./x.db"
    assert WebhookUrl("https://example.com").masked == "https://example.com"
    doc = effective_document(loaded)
    assert doc["settings"]["service"]["api_key"] == MASK
    assert doc["settings"]["alerts"]["webhook_url"] == f"https://hooks.slack.com/{MASK}"


def test_secret_in_file_warns_to_use_env() -> None:
    loaded = load_settings('[service]\napi_key = "k-in-file"\n', {}, path="c.toml")
    assert any("CATALYST_API_KEY" in w and "c.toml" in w for w in loaded.warnings)
    assert all("k-in-file" not in w for w in loaded.warnings)


def test_masked_url_equality_uses_the_real_value() -> None:
    assert DatabaseUrl("sqlite:///a.db") == DatabaseUrl("sqlite:///a.db")
    assert DatabaseUrl("sqlite:///a.db") != DatabaseUrl("sqlite:///b.db")
    assert DatabaseUrl("sqlite:///a.db") != WebhookUrl("sqlite:///a.db")


def test_database_password_in_file_warns_but_plain_sqlite_does_not() -> None:
    loaded = load_settings(f'[oms]\ndb_url = "{DB}"\n', {}, path="c.toml")
    assert any("CATALYST_OMS_DB_URL" in w for w in loaded.warnings)
    assert all("db-pass-777" not in w for w in loaded.warnings)
    quiet = load_settings('[oms]\ndb_url = "sqlite:///./j.db"\n', {}, path="c.toml")
    assert quiet.warnings == ()
