"""``make_broker``: the one place a gateway URL becomes a Broker, for the CLI and the service.

``http(s)://`` is the Client Portal Web API (IBeam); ``tws://`` is the TWS socket API. The
TWS backend is imported only when asked for, so a Web API user never loads ib_async, and an
installation without it gets a clear "not available" instead of an ImportError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalyst_ibkr.adapters.webapi.broker import BrokerSettings, WebApiBroker
from catalyst_ibkr.adapters.webapi.orders import QuestionRecord
from catalyst_ibkr.adapters.webapi.snapshots import SnapshotSettings
from catalyst_ibkr.adapters.webapi.stack import open_stack_from_config
from catalyst_ibkr.adapters.webapi.stream import StreamSettings
from catalyst_ibkr.config.settings import Settings
from catalyst_ibkr.ports.broker import Broker, BrokerUnavailable

__all__ = ["BackendNotAvailable", "make_broker", "make_webapi_broker"]


class BackendNotAvailable(BrokerUnavailable):
    """The URL names a backend this installation cannot provide."""


def make_webapi_broker(
    gateway_url: str,
    settings: Settings,
    *,
    account: str | None = None,
    insecure: bool = False,
    warn: Callable[[str], None] | None = None,
    on_question: Callable[[QuestionRecord], None] | None = None,
) -> WebApiBroker:
    """The Web API broker for ``gateway_url`` with ``[gateway] [pacing] [questions]``."""
    holder: list[WebApiBroker] = []

    async def on_new_session() -> None:
        if holder:
            await holder[0].on_new_session()

    stack = open_stack_from_config(
        settings, gateway_url=gateway_url, insecure=insecure, warn=warn,
        on_new_session=on_new_session,
    )
    scale = settings.pacing.time_scale
    broker = WebApiBroker(
        stack,
        BrokerSettings(
            account=account if account is not None else settings.gateway.account,
            confirm_questions=frozenset(settings.questions.confirm),
            suppress_questions=settings.questions.suppress,
            snapshot=SnapshotSettings(deadline_s=max(2.0, 10.0 / scale)),
            stream=StreamSettings(time_scale=scale),
        ),
        on_question=on_question,
    )
    holder.append(broker)
    return broker


def make_broker(
    gateway_url: str,
    settings: Settings,
    *,
    account: str | None = None,
    client_id: int | None = None,
    insecure: bool = False,
    warn: Callable[[str], None] | None = None,
    on_question: Callable[[QuestionRecord], None] | None = None,
) -> Broker:
    """A Broker for ``gateway_url`` (not started). Raises ValueError for a malformed URL."""
    scheme = gateway_url.split("://", 1)[0].lower() if "://" in gateway_url else ""
    if scheme in ("http", "https"):
        return make_webapi_broker(
            gateway_url, settings, account=account, insecure=insecure, warn=warn,
            on_question=on_question,
        )
    if scheme == "tws":
        return _tws(gateway_url, settings, account=account, client_id=client_id)
    raise ValueError(
        f"gateway URL {gateway_url!r} must start with https://, http:// or tws://"
    )


def _tws(gateway_url: str, settings: Settings, *, account: str | None,
         client_id: int | None) -> Broker:
    try:
        from catalyst_ibkr.adapters.tws import factory as tws_factory
    except ImportError as exc:
        raise BackendNotAvailable(
            f"the TWS socket backend is not available in this installation ({exc}); use "
            "the Client Portal gateway (https://...) or install catalyst-ibkr with ib_async"
        ) from exc
    make_tws: Any = getattr(tws_factory, "make_tws_broker", None)
    if make_tws is None:
        raise BackendNotAvailable("the TWS socket backend is not available yet")
    broker: Broker = make_tws(
        gateway_url,
        client_id if client_id is not None else settings.gateway.client_id,
        account=account if account is not None else settings.gateway.account,
    )
    return broker
