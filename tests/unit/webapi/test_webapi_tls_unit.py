"""TLS planning and the pin store without sockets."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from catalyst_ibkr.adapters.webapi.errors import TlsError
from catalyst_ibkr.adapters.webapi.tls import (
    Pin,
    PinStore,
    TlsSettings,
    build_http_client,
    plan_tls,
)


def test_pin_store_round_trip_keyed_by_host_and_port(tmp_path: Path) -> None:
    store = PinStore(tmp_path / "sub" / "pins.json")
    assert store.get("localhost", 5000) is None
    pin = Pin("localhost", 5000, "AA:" * 31 + "AA", "CN=x", "PEM", "2026-01-01T00:00:00+00:00")
    store.put(pin)
    store.put(Pin("localhost", 5001, "BB:" * 31 + "BB", "CN=y", "PEM", "t"))
    assert PinStore(tmp_path / "sub" / "pins.json").get("LOCALHOST", 5000) == pin
    assert store.get("localhost", 5001) is not None


def test_pin_store_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(TlsError, match="not valid JSON"):
        PinStore(path).get("localhost", 5000)


def test_plans(tmp_path: Path) -> None:
    assert plan_tls("http://gw:5000", TlsSettings()).mode == "http"
    system = plan_tls("https://gw:5000", TlsSettings(pin_store=tmp_path / "p.json"))
    assert system.mode == "system" and isinstance(system.verify, ssl.SSLContext)
    assert system.verify.verify_mode is ssl.CERT_REQUIRED
    with pytest.raises(TlsError, match="does not exist"):
        plan_tls("https://gw:5000", TlsSettings(ca_file=tmp_path / "missing.pem"))
    with pytest.raises(ValueError):
        plan_tls("tws://gw:4002", TlsSettings())


async def test_client_base_url_gets_api_prefix() -> None:
    client = build_http_client("https://gw:5000/", plan_tls("http://gw:5000", TlsSettings()))
    assert str(client.base_url) == "https://gw:5000/v1/api/"
    await client.aclose()


async def test_stack_from_config_maps_sections(tmp_path: Path) -> None:
    from catalyst_ibkr.adapters.webapi.stack import open_stack_from_config
    from catalyst_ibkr.config.loader import load_settings

    text = f"""
[gateway]
url = "http://127.0.0.1:5999"
pin_store = "{tmp_path / "p.json"}"

[pacing]
guard_ms = 20
safety_margin = 0.9
state_dir = "{tmp_path}"
"""
    loaded = load_settings(text, {"HOME": str(tmp_path)}, path="test.toml")
    stack = open_stack_from_config(loaded.settings)
    try:
        assert stack.tls_mode == "http"
        assert stack.governor.window_s("global") == pytest.approx(1 / 0.9 + 0.02)
    finally:
        await stack.aclose()
