"""``catalyst-ibkr gateway pin URL``: trust a gateway's self-signed certificate explicitly.

The Client Portal Gateway ships a self-signed certificate. Instead of switching
verification off, a person looks at the certificate once (subject, validity, SHA-256
fingerprint), confirms, and the fingerprint (with the certificate) is stored under
``host:port`` in the pin store (``[gateway] pin_store``). Every later connection to that
address must present exactly that certificate (adapters/webapi/tls.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalyst_ibkr.adapters.webapi.errors import TlsError
from catalyst_ibkr.adapters.webapi.tls import (
    PinStore,
    fetch_certificate,
    gateway_address,
    new_pin,
)
from catalyst_ibkr.cli.confirm import YesOption, confirm_or_exit
from catalyst_ibkr.cli.context import load_cli_settings
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.main import GlobalOptions, app
from catalyst_ibkr.cli.output import Output

__all__ = ["gateway_app"]

gateway_app = typer.Typer(
    name="gateway",
    help="Trust and inspect the IBKR gateway (TLS pinning).",
    no_args_is_help=True,
)
app.add_typer(gateway_app, name="gateway")


@gateway_app.command("pin")
def pin(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The gateway to pin, e.g. https://localhost:5000.")],
    yes: YesOption = False,
    pin_store: Annotated[
        Path | None,
        typer.Option(
            "--pin-store",
            help="Pin file to write (default: [gateway] pin_store from the config).",
        ),
    ] = None,
) -> None:
    """Fetch the gateway's certificate, show it, and pin its SHA-256 fingerprint."""
    options = ctx.obj if isinstance(ctx.obj, GlobalOptions) else None
    out = Output(options.json if options is not None else False)
    if pin_store is None:
        if options is None:
            out.fail(ExitCode.USAGE_OR_CONFIG, "no settings; pass --pin-store FILE")
        pin_store = load_cli_settings(options, out, ctx=ctx).settings.gateway.pin_store
    store_path = pin_store.expanduser()
    try:
        scheme, host, port = gateway_address(url)
    except ValueError as exc:
        out.fail(ExitCode.USAGE_OR_CONFIG, f"{exc}. Nothing was pinned.")
    if scheme != "https":
        out.fail(
            ExitCode.USAGE_OR_CONFIG,
            f"{url} is plain http (a gateway with listenSsl: false): there is no certificate "
            "to pin. Nothing was pinned.",
        )
    try:
        cert = fetch_certificate(host, port)
    except TlsError as exc:
        out.fail(ExitCode.GATEWAY_UNAVAILABLE, str(exc))
    try:
        store = PinStore(store_path)
        existing = store.get(host, port)
    except TlsError as exc:
        out.fail(ExitCode.USAGE_OR_CONFIG, str(exc))

    address = f"{host}:{port}"
    document = {
        "gateway": address,
        "subject": cert.subject,
        "issuer": cert.issuer,
        "not_before": cert.not_before,
        "not_after": cert.not_after,
        "fingerprint_sha256": cert.fingerprint,
        "pin_store": str(store_path),
        "previous_fingerprint": existing.fingerprint if existing is not None else None,
    }
    out.info(f"gateway      {address}")
    out.info(f"subject      {cert.subject}")
    out.info(f"issuer       {cert.issuer}")
    out.info(f"valid        {cert.not_before:%Y-%m-%d} .. {cert.not_after:%Y-%m-%d}")
    out.info(f"SHA-256      {cert.fingerprint}")
    if existing is not None and existing.fingerprint == cert.fingerprint:
        out.info(f"already pinned in {store_path}; nothing changed")
        out.result({**document, "changed": False})
        return
    if existing is not None:
        out.warn(
            f"the certificate at {address} CHANGED since it was pinned (was "
            f"{existing.fingerprint}). Re-pin only if you replaced it yourself."
        )
    confirm_or_exit(f"Pin this certificate for {address}?", yes=yes, out=out)
    try:
        store.put(new_pin(host, port, cert))
    except OSError as exc:
        out.fail(
            ExitCode.USAGE_OR_CONFIG,
            f"cannot write the pin store {store_path} ({exc.strerror or exc}); "
            "pass --pin-store FILE or fix the directory's permissions. Nothing was pinned.",
        )
    out.info(f"pinned {address} in {store_path}")
    out.result({**document, "changed": True})
