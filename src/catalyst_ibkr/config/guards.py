"""Checks that span several keys, or that callers run with values known only at run time.

These are separate functions (not hidden in the model) because the account and the bind
address can also come from flags (``--account``, ``serve --host``): the CLI and the service
call them again with the values they actually use.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from catalyst_ibkr.config.settings import Settings

__all__ = [
    "PAPER_ACCOUNT_PREFIXES",
    "is_loopback_host",
    "is_paper_account",
    "mode_account_problem",
    "service_bind_problem",
    "time_scale_problem",
    "tws_port_warning",
]

#: IBKR paper accounts start with "DU" (individual) or "DF" (advisor master); live ones with
#: "U", "F", "I"... Anything else is treated as live, the cautious reading.
PAPER_ACCOUNT_PREFIXES = ("DU", "DF")


def is_paper_account(account: str) -> bool:
    """Whether an IBKR account id is a paper-trading account."""
    return account.upper().startswith(PAPER_ACCOUNT_PREFIXES)


def mode_account_problem(mode: str, account: str | None) -> str | None:
    """Why ``mode`` and ``account`` disagree (the paper-to-live interlock), or None."""
    if mode == "live":
        if account is None:
            return (
                'mode = "live" needs an explicit live account id ([gateway] account); '
                "refusing to guess which account to trade"
            )
        if is_paper_account(account):
            return f'mode = "live" but account {account} is a paper account (DU/DF...)'
        return None
    if account is not None and not is_paper_account(account):
        return (
            f'account {account} is a live account but mode is "{mode}"; set '
            '[gateway] mode = "live" on purpose to trade it'
        )
    return None


def time_scale_problem(settings: Settings, account: str | None = None) -> str | None:
    """Why ``[pacing] time_scale`` must not be used here, or None.

    A time scale shortens IBKR's pacing windows and penalty box on our side; against a real
    gateway that means 429s and a penalty box, so it is for simulator tests only.
    """
    if settings.pacing.time_scale == 1.0:
        return None
    account = account if account is not None else settings.gateway.account
    live = settings.gateway.mode == "live" or (
        account is not None and not is_paper_account(account)
    )
    if live:
        return (
            f"time_scale = {settings.pacing.time_scale} is test-only (simulator) and refused "
            "with a live mode or account; set it to 1.0"
        )
    return None


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` keeps the service reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def service_bind_problem(settings: Settings, host: str | None = None) -> str | None:
    """Why the service must not bind ``host`` (default: ``[service] host``), or None.

    A non-loopback address exposes order entry to the network, so it needs both keys.
    """
    host = host if host is not None else settings.service.host
    if is_loopback_host(host):
        return None
    missing = [
        name
        for name, value in (
            ("CATALYST_API_KEY", settings.service.api_key),
            ("CATALYST_ADMIN_KEY", settings.service.admin_key),
        )
        if value is None or not value.get_secret_value()
    ]
    if missing:
        return (
            f"refusing to bind {host}: a non-loopback address needs {' and '.join(missing)} "
            "set (or bind 127.0.0.1)"
        )
    return None


#: IB Gateway / TWS default API ports. Users can change them, so a mismatch is a warning.
_TWS_DEFAULT_PORTS = {
    4001: ("live", "IB Gateway"),
    7496: ("live", "TWS"),
    4002: ("paper", "IB Gateway"),
    7497: ("paper", "TWS"),
}


def tws_port_warning(settings: Settings) -> str | None:
    """A hint when a ``tws://`` port is the other mode's default (e.g. 4001 in paper mode)."""
    parts = urlsplit(settings.gateway.url)
    if parts.scheme != "tws" or parts.port not in _TWS_DEFAULT_PORTS:
        return None
    port_mode, product = _TWS_DEFAULT_PORTS[parts.port]
    if port_mode == settings.gateway.mode:
        return None
    return (
        f"[gateway] url uses port {parts.port}, {product}'s default {port_mode} port, but "
        f'mode is "{settings.gateway.mode}"; check that this is the gateway you mean'
    )
