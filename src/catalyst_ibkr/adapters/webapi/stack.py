"""Wire the layers for one gateway: TLS plan -> httpx client -> governor -> transport ->
endpoint client -> session keeper. One function, so the CLI, the service, the adapter and
the tests build the stack the same way (and nothing connects at import time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .endpoints import WebApiClient
from .pacing import Clock, PacingGovernor
from .pacing_store import FilePacingStore, MemoryPacingStore, PacingStore, default_state_path
from .session import KeeperSettings, SessionKeeper
from .tls import TlsPlan, TlsSettings, build_http_client, gateway_address, plan_tls
from .transport import ClientSettings, Transport

if TYPE_CHECKING:
    from catalyst_ibkr.config.settings import Settings

__all__ = ["PacingSettings", "WebApiStack", "open_stack", "open_stack_from_config"]


@dataclass(frozen=True)
class PacingSettings:
    """``[pacing]``: ``time_scale`` is a test-only setting (refuse it for a live account)."""

    time_scale: float = 1.0
    margin: float = 0.95
    guard_s: float = 0.05
    penalty_s: float = 900.0
    #: None: ``$XDG_STATE_HOME/catalyst-ibkr`` (one file per gateway under ``pacing/``)
    state_dir: Path | None = None
    #: False: keep the send log in memory only (tests of a single process)
    shared: bool = True


@dataclass
class WebApiStack:
    """Everything one gateway needs; ``aclose()`` stops the keeper and closes sockets."""

    client: WebApiClient
    keeper: SessionKeeper
    governor: PacingGovernor
    gateway_url: str
    tls_mode: str
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    #: how TLS is verified (the websocket needs the same trust as the REST client)
    tls_plan: TlsPlan | None = None

    async def aclose(self) -> None:
        await self.keeper.stop()
        for close in self._closers:
            await close()


def open_stack(
    gateway_url: str,
    *,
    tls: TlsSettings | None = None,
    pacing: PacingSettings | None = None,
    keeper: KeeperSettings | None = None,
    client: ClientSettings | None = None,
    clock: Clock | None = None,
    warn: Callable[[str], None] | None = None,
    on_new_session: Callable[[], Awaitable[None]] | None = None,
) -> WebApiStack:
    """Build (not start) the stack. Raises ``TlsError``/``ValueError`` for bad settings."""
    pacing = pacing or PacingSettings()
    _, host, port = gateway_address(gateway_url)
    plan = plan_tls(gateway_url, tls or TlsSettings(), warn=warn)
    http = build_http_client(gateway_url, plan)
    store: PacingStore
    if pacing.shared:
        store = FilePacingStore(default_state_path(host, port, base=pacing.state_dir))
    else:
        store = MemoryPacingStore()
    client = client or ClientSettings()
    governor = PacingGovernor(
        store,
        time_scale=pacing.time_scale,
        margin=pacing.margin,
        guard_s=pacing.guard_s,
        penalty_s=pacing.penalty_s,
        clock=clock,
        # A send left "in flight" in the shared log by a process that died cannot reach IBKR
        # later than our own timeout for it; counting it longer (the governor's generic 120 s)
        # stalled a restarted service's first tickle, and so its start and kill switch, for
        # two minutes after a SIGKILL (tests/integration/reliability/test_kill9_in_flight.py).
        inflight_ttl_s=client.connect_timeout_s
        + max(client.read_timeout_s, client.order_timeout_s),
    )
    transport = Transport(http, governor, settings=client, clock=clock)
    api = WebApiClient(transport)
    keeper_settings = keeper or KeeperSettings(time_scale=pacing.time_scale)
    session = SessionKeeper(
        api, settings=keeper_settings, clock=clock, on_new_session=on_new_session
    )
    session.attach()
    return WebApiStack(
        client=api,
        keeper=session,
        governor=governor,
        gateway_url=gateway_url,
        tls_mode=plan.mode,
        _closers=[http.aclose],
        tls_plan=plan,
    )


def open_stack_from_config(
    settings: Settings,
    *,
    gateway_url: str | None = None,
    insecure: bool = False,
    warn: Callable[[str], None] | None = None,
    on_new_session: Callable[[], Awaitable[None]] | None = None,
) -> WebApiStack:
    """``open_stack`` with ``[gateway]`` and ``[pacing]`` of the loaded configuration.

    The config loader has already refused a test-only ``time_scale`` with a live account.
    """
    gw = settings.gateway
    pc = settings.pacing
    return open_stack(
        gateway_url or gw.url,
        tls=TlsSettings(
            ca_file=gw.ca_file.expanduser() if gw.ca_file is not None else None,
            insecure=insecure,
            pin_store=gw.pin_store.expanduser(),
        ),
        pacing=PacingSettings(
            time_scale=pc.time_scale,
            margin=pc.safety_margin,
            guard_s=pc.guard_ms / 1000,
            penalty_s=pc.penalty_s,
            state_dir=pc.state_dir.expanduser(),
        ),
        keeper=KeeperSettings(tickle_interval_s=gw.tickle_interval_s, time_scale=pc.time_scale),
        client=ClientSettings(
            read_timeout_s=gw.timeout_s, order_timeout_s=gw.order_timeout_s
        ),
        warn=warn,
        on_new_session=on_new_session,
    )
