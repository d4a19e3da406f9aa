"""TLS to the gateway, as interfaces.md says: CA file, pinned fingerprint, or a loud opt-out.

Why pinning: the Client Portal Gateway (and IBeam) ship a self-signed certificate, and the
usual advice is to switch verification off, which lets any local process that grabs the port read
session cookies and inject orders (reliability.md (a) 46). Instead:

- ``--ca FILE``: ordinary verification against that CA/certificate (hostname checked).
- pinned: ``catalyst-ibkr gateway pin URL`` fetched the certificate once, showed its
  subject and SHA-256 fingerprint and stored both (``PinStore``, keyed by ``host:port``).
  Every later connection (a) lets OpenSSL verify the presented chain against exactly that
  certificate as the only trust anchor (no hostname check: the pin is the identity; no
  expiry check: the gateway's bundled certificate may be old) and (b) compares the SHA-256
  of the presented leaf with the pin right after each handshake, before a single request
  byte is written (``PinnedTransport``). Both checks run on every new connection.
- ``--insecure``: no verification; writes a warning to stderr every time it is used.
- ``http://``: a gateway run with ``listenSsl: false``; no TLS at all, accepted as given.
- otherwise: the system trust store (a public certificate works; a self-signed gateway
  fails with a ``TlsError`` whose hint says to pin it or pass ``--ca``).
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from cryptography import x509
from filelock import FileLock

from .errors import PinMismatch, TlsError

__all__ = [
    "CertificateInfo",
    "Pin",
    "PinStore",
    "PinnedTransport",
    "TlsPlan",
    "TlsSettings",
    "build_http_client",
    "certificate_info",
    "default_pin_path",
    "fetch_certificate",
    "gateway_address",
    "normalise_fingerprint",
    "plan_tls",
]

INSECURE_WARNING = (
    "WARNING: --insecure: the gateway's TLS certificate is NOT verified; anything that can "
    "answer on this address can read your session and change your orders. Pin it instead: "
    "catalyst-ibkr gateway pin {url}"
)

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (not exported by the ssl module): a pinned certificate
# is trusted by identity, so its validity dates do not matter.
_X509_V_FLAG_NO_CHECK_TIME = 0x200000


def normalise_fingerprint(text: str) -> str:
    """``ab:cd...``, ``ABCD...`` or ``sha256/AB:CD`` -> ``AB:CD:...`` (64 hex digits)."""
    hexdigits = "".join(ch for ch in text.split("/")[-1] if ch.isalnum()).upper()
    if len(hexdigits) != 64 or any(ch not in "0123456789ABCDEF" for ch in hexdigits):
        raise ValueError(f"not a SHA-256 fingerprint: {text!r}")
    return ":".join(hexdigits[i : i + 2] for i in range(0, 64, 2))


def _fingerprint(der: bytes) -> str:
    return normalise_fingerprint(hashlib.sha256(der).hexdigest())


def gateway_address(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a gateway URL; ValueError with a fix for bad input."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ValueError(f"{url!r}: use https://host:port or http://host:port")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host; use e.g. https://localhost:5000")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise ValueError(f"{url!r} has an invalid port") from exc
    return scheme, parts.hostname, port


# -- certificates and the pin store ---------------------------------------------------------


@dataclass(frozen=True)
class CertificateInfo:
    pem: str
    fingerprint: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime


def certificate_info(pem: str) -> CertificateInfo:
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    return CertificateInfo(
        pem=pem,
        fingerprint=_fingerprint(ssl.PEM_cert_to_DER_cert(pem)),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def fetch_certificate(host: str, port: int, *, timeout_s: float = 10.0) -> CertificateInfo:
    """The certificate the server presents (unverified: this is what pinning decides on)."""
    try:
        pem = ssl.get_server_certificate((host, port), timeout=timeout_s)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(
            f"could not fetch a TLS certificate from {host}:{port} ({type(exc).__name__})",
            hint="Check the URL and that the gateway is running with TLS (listenSsl: true)",
        ) from exc
    return certificate_info(pem)


@dataclass(frozen=True)
class Pin:
    host: str
    port: int
    fingerprint: str
    subject: str
    pem: str
    pinned_at: str

    @property
    def key(self) -> str:
        return f"{self.host.lower()}:{self.port}"


def default_pin_path() -> Path:
    """``$CATALYST_GATEWAY_PINS_FILE``, else ``$XDG_CONFIG_HOME/catalyst-ibkr/pins.json``."""
    explicit = os.environ.get("CATALYST_GATEWAY_PINS_FILE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "catalyst-ibkr" / "pins.json"


class PinStore:
    """``{"host:port": Pin}`` in one small JSON file (fingerprints are not secrets)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_pin_path()
        self._lock = FileLock(str(self.path) + ".lock", timeout=10)

    def get(self, host: str, port: int) -> Pin | None:
        return self._read().get(f"{host.lower()}:{port}")

    def put(self, pin: Pin) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            pins = self._read()
            pins[pin.key] = pin
            self._write(pins)

    def _read(self) -> dict[str, Pin]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise TlsError(
                f"the pin store {self.path} is not valid JSON",
                hint="Fix or delete it and pin the gateway again",
            ) from exc
        out: dict[str, Pin] = {}
        for key, value in raw.get("pins", {}).items() if isinstance(raw, dict) else ():
            try:
                out[key] = Pin(**value)
            except TypeError as exc:
                raise TlsError(
                    f"the pin store {self.path} has a malformed entry {key!r}",
                    hint="Delete that entry and pin the gateway again",
                ) from exc
        return out

    def _write(self, pins: dict[str, Pin]) -> None:
        data = {"version": 1, "pins": {k: asdict(v) for k, v in sorted(pins.items())}}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".pins-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.replace(tmp, self.path)


def new_pin(host: str, port: int, cert: CertificateInfo, now: datetime | None = None) -> Pin:
    when = (now or datetime.now(UTC)).isoformat()
    return Pin(host.lower(), port, cert.fingerprint, cert.subject, cert.pem, when)


# -- planning and building the client -------------------------------------------------------


@dataclass(frozen=True)
class TlsSettings:
    ca_file: Path | None = None
    insecure: bool = False
    pin_store: Path | None = None


@dataclass(frozen=True)
class TlsPlan:
    """How to talk to one gateway URL. ``mode``: http | ca | pin | insecure | system."""

    mode: str
    verify: ssl.SSLContext | bool
    pin: Pin | None = None


def plan_tls(
    url: str,
    settings: TlsSettings,
    *,
    warn: Callable[[str], None] | None = None,
) -> TlsPlan:
    """Decide verification for ``url``. ``--insecure`` warns (stderr by default) every time."""
    scheme, host, port = gateway_address(url)
    if scheme == "http":
        return TlsPlan("http", True)
    if settings.insecure:
        message = INSECURE_WARNING.format(url=url)
        if warn is None:
            print(message, file=sys.stderr, flush=True)
        else:
            warn(message)
        return TlsPlan("insecure", False)
    if settings.ca_file is not None:
        if not settings.ca_file.is_file():
            raise TlsError(
                f"--ca {settings.ca_file} does not exist",
                hint="Pass the gateway's certificate or CA bundle (PEM)",
            )
        return TlsPlan("ca", ssl.create_default_context(cafile=str(settings.ca_file)))
    pin = PinStore(settings.pin_store).get(host, port)
    if pin is not None:
        return TlsPlan("pin", pinned_context(pin), pin)
    return TlsPlan("system", ssl.create_default_context())


def pinned_context(pin: Pin) -> ssl.SSLContext:
    """Trust exactly the pinned certificate (chain check by OpenSSL; leaf checked again)."""
    ctx = ssl.create_default_context(cadata=pin.pem)
    ctx.check_hostname = False  # identity is the pinned certificate, not the name in it
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.verify_flags = ssl.VerifyFlags(int(ctx.verify_flags) | _X509_V_FLAG_NO_CHECK_TIME)
    return ctx


# The ``timeout`` parameters below are httpcore's interface, hence the ASYNC109 waivers.
class _PinningStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream, fingerprint: str) -> None:
        self._inner = inner
        self._fingerprint = fingerprint

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        ssl_object = tls.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        presented = _fingerprint(der) if der else "none"
        if presented != self._fingerprint:
            await tls.aclose()
            raise PinMismatch(
                f"the gateway at {server_hostname} presented certificate {presented}, "
                f"not the pinned {self._fingerprint}"
            )
        return _PinningStream(tls, self._fingerprint)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinningBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, fingerprint: str) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._fingerprint = fingerprint

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _PinningStream(stream, self._fingerprint)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return _PinningStream(stream, self._fingerprint)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with a connection pool whose every TLS handshake checks the pin."""

    def __init__(self, pin: Pin, limits: httpx.Limits | None = None) -> None:
        ctx = pinned_context(pin)
        limits = limits or httpx.Limits(max_connections=20, max_keepalive_connections=10)
        super().__init__(verify=ctx, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ctx,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinningBackend(pin.fingerprint),
        )


def build_http_client(
    gateway_url: str,
    plan: TlsPlan,
    *,
    timeout_s: float = 15.0,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on ``<gateway>/v1/api`` that verifies as ``plan`` says."""
    base = gateway_url.rstrip("/")
    if not base.endswith("/v1/api"):
        base += "/v1/api"
    transport: httpx.AsyncBaseTransport
    if plan.pin is not None:
        transport = PinnedTransport(plan.pin)
    else:
        transport = httpx.AsyncHTTPTransport(verify=plan.verify)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=timeout_s)
