"""TLS against the real simulator over loopback: CA file, pinning, mismatch, http, insecure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from catalyst_ibkr.adapters.webapi import tls
from catalyst_ibkr.adapters.webapi.errors import PinMismatch, TlsError
from catalyst_ibkr.adapters.webapi.stack import WebApiStack
from catalyst_ibkr.adapters.webapi.tls import (
    PinStore,
    TlsSettings,
    fetch_certificate,
    gateway_address,
    new_pin,
    plan_tls,
)
from ibkr_sim.tls import fingerprint_sha256
from sim_fixtures import RunningSim

StackFactory = Callable[..., WebApiStack]


def pin_sim(sim: RunningSim, store_path: Path) -> tls.Pin:
    _, host, port = gateway_address(sim.base_url)
    cert = fetch_certificate(host, port)
    pin = new_pin(host, port, cert)
    PinStore(store_path).put(pin)
    return pin


async def test_pinned_certificate_is_accepted(
    sim: RunningSim, make_stack: StackFactory, tmp_path: Path
) -> None:
    assert sim.ca_file is not None
    pin = pin_sim(sim, tmp_path / "pins.json")
    assert pin.fingerprint == fingerprint_sha256(sim.ca_file.read_bytes())
    stack = make_stack(sim, tls=TlsSettings(pin_store=tmp_path / "pins.json"))
    assert stack.tls_mode == "pin"
    status = await stack.client.auth_status()
    assert status.authenticated


async def test_another_certificate_at_the_pinned_address_is_refused(
    sim_factory: object, make_stack: StackFactory, tmp_path: Path
) -> None:
    assert callable(sim_factory)
    first: RunningSim = sim_factory()
    other: RunningSim = sim_factory(state_dir=tmp_path / "other-cert")
    store = tmp_path / "pins.json"
    pin = pin_sim(first, store)
    _, _host, port = gateway_address(other.base_url)
    PinStore(store).put(replace(pin, port=port))  # first's cert pinned for other's address
    stack = make_stack(other, tls=TlsSettings(pin_store=store))
    with pytest.raises(TlsError) as info:
        await stack.client.auth_status()
    assert "pin" in str(info.value).lower() or "certificate" in str(info.value).lower()
    assert other.state()["stats"]["requests_total"] == 0  # nothing reached the server


async def test_fingerprint_is_checked_even_when_openssl_accepts(
    sim: RunningSim, make_stack: StackFactory, tmp_path: Path
) -> None:
    store = tmp_path / "pins.json"
    pin = pin_sim(sim, store)
    wrong = "AB:" * 31 + "AB"
    PinStore(store).put(replace(pin, fingerprint=wrong))
    stack = make_stack(sim, tls=TlsSettings(pin_store=store))
    with pytest.raises(PinMismatch, match="not the pinned"):
        await stack.client.iserver_accounts()
    assert sim.state()["stats"]["requests_total"] == 0


async def test_pin_is_checked_on_every_new_connection(
    sim: RunningSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin = pin_sim(sim, tmp_path / "pins.json")
    checks = 0
    real = tls._fingerprint

    def counting(der: bytes) -> str:
        nonlocal checks
        checks += 1
        return real(der)

    monkeypatch.setattr(tls, "_fingerprint", counting)
    transport = tls.PinnedTransport(pin, limits=httpx.Limits(max_keepalive_connections=0))
    async with httpx.AsyncClient(transport=transport, base_url=sim.api_url) as client:
        for _ in range(3):
            response = await client.post("/iserver/auth/status", content=b"")
            assert response.status_code == 200
    assert checks == 3


async def test_plain_http_gateway(sim_factory: object, make_stack: StackFactory) -> None:
    assert callable(sim_factory)
    plain: RunningSim = sim_factory(tls=False)
    assert plain.base_url.startswith("http://")
    stack = make_stack(plain, tls=TlsSettings())
    assert stack.tls_mode == "http"
    assert (await stack.client.auth_status()).authenticated


async def test_self_signed_without_pin_or_ca_is_not_trusted(
    sim: RunningSim, make_stack: StackFactory, tmp_path: Path
) -> None:
    stack = make_stack(sim, tls=TlsSettings(pin_store=tmp_path / "none.json"))
    assert stack.tls_mode == "system"
    with pytest.raises(TlsError) as info:
        await stack.client.auth_status()
    assert "gateway pin" in str(info.value)


async def test_insecure_works_and_warns_every_time(
    sim: RunningSim, make_stack: StackFactory
) -> None:
    warnings: list[str] = []
    for _ in range(2):
        stack = make_stack(sim, tls=TlsSettings(insecure=True), warn=warnings.append)
        assert (await stack.client.auth_status()).authenticated
    assert len(warnings) == 2 and all("NOT verified" in w for w in warnings)


def test_insecure_warns_on_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    plan_tls("https://localhost:5000", TlsSettings(insecure=True))
    plan_tls("https://localhost:5000", TlsSettings(insecure=True))
    assert capsys.readouterr().err.count("--insecure") == 2


def test_bad_urls_and_fingerprints() -> None:
    with pytest.raises(ValueError, match="https://host:port"):
        gateway_address("tws://localhost:4002")
    assert tls.normalise_fingerprint("ab" * 32) == ":".join(["AB"] * 32)
    with pytest.raises(ValueError):
        tls.normalise_fingerprint("abc")
