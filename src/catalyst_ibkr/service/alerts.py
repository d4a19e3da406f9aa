"""Alerts: wake a person only when something needs them, once, and say when it is over.

Why a separate module: the watchdog, the interlock and the OMS all notice conditions that a
trader must hear about, and the failure mode of naive alerting is well known (Knight's 97
e-mails were "not designed as system alerts", reliability.md (a) 24). So every alert has a
*key* (one condition), is sent once while the condition lasts (re-sent only as a reminder
after ``dedupe_window_s``), and its end is announced once (``announce_recovery``).

Delivery is a JSON POST to ``[alerts] webhook_url`` (with ``slack = true`` the body is
Slack's ``{"text": ...}``). A webhook failure is logged (with the URL masked) and never
raised: an alert channel that is down must not stop the service that is reporting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx

from catalyst_ibkr.config.sections_ops import AlertsSettings

__all__ = ["Alert", "Alerter", "Severity", "alert_body"]

log = logging.getLogger(__name__)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One condition. ``key`` names the condition (e.g. ``session``), not the occurrence."""

    key: str
    severity: Severity
    title: str
    detail: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def alert_body(alert: Alert, *, kind: str, slack: bool) -> dict[str, Any]:
    """The JSON sent for an alert (``kind`` = "alert", "reminder" or "recovery")."""
    if slack:
        icon = {"alert": ":rotating_light:", "reminder": ":bell:", "recovery": ":white_check_mark:"}
        text = f"{icon.get(kind, '')} catalyst-ibkr {kind}: {alert.title}"
        if alert.detail:
            text += f"\n{alert.detail}"
        return {"text": text}
    return {
        "source": "catalyst-ibkr",
        "kind": kind,
        "key": alert.key,
        "severity": alert.severity.value,
        "title": alert.title,
        "detail": alert.detail,
        "at": alert.at.isoformat(),
    }


@dataclass
class _Active:
    alert: Alert
    last_sent_mono: float


class Alerter:
    """Deduplicating webhook alerts; ``raise_alert`` / ``resolve`` are the whole API.

    ``monotonic`` is injectable so tests can step over the dedupe window. ``on_send`` sees
    every message actually emitted (kind, alert): the service journals it as an ``alert``
    event for the dashboard.
    """

    def __init__(
        self,
        settings: AlertsSettings,
        *,
        http: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] | None = None,
        on_send: Callable[[str, Alert], None] | None = None,
    ) -> None:
        self.settings = settings
        self._http = http
        self._own_http = http is None
        self._monotonic = monotonic or time.monotonic
        self._on_send = on_send
        self._active: dict[str, _Active] = {}
        self._one_shot: dict[str, float] = {}
        #: every (kind, alert) emitted, newest last (bounded), for the health view and tests
        self.history: list[tuple[str, Alert]] = []

    @property
    def active(self) -> dict[str, Alert]:
        return {key: entry.alert for key, entry in self._active.items()}

    async def raise_alert(self, alert: Alert) -> bool:
        """Report that ``alert.key``'s condition holds. True if a message went out."""
        now = self._monotonic()
        entry = self._active.get(alert.key)
        if entry is not None:
            entry.alert = alert
            if now - entry.last_sent_mono < self.settings.dedupe_window_s:
                return False
            entry.last_sent_mono = now
            await self._emit("reminder", alert)
            return True
        self._active[alert.key] = _Active(alert, now)
        await self._emit("alert", alert)
        return True

    async def resolve(self, key: str, detail: str = "", *, announce: bool = True) -> bool:
        """Report that ``key``'s condition cleared. True if a recovery message went out.

        ``announce=False`` clears it quietly (another recovery message already says it).
        """
        entry = self._active.pop(key, None)
        if entry is None or not announce or not self.settings.announce_recovery:
            return False
        recovered = Alert(
            key=key,
            severity=Severity.INFO,
            title=f"recovered: {entry.alert.title}",
            detail=detail,
        )
        await self._emit("recovery", recovered)
        return True

    async def notify(self, alert: Alert) -> bool:
        """Report an event (not a lasting condition): sent at most once per key and window,
        never announced as recovered. The OMS's alerts (an order left in doubt, a
        reconciliation mismatch) arrive this way. True if a message went out."""
        now = self._monotonic()
        last = self._one_shot.get(alert.key)
        if last is not None and now - last < self.settings.dedupe_window_s:
            return False
        self._one_shot[alert.key] = now
        await self._emit("alert", alert)
        return True

    async def aclose(self) -> None:
        if self._http is not None and self._own_http:
            await self._http.aclose()
            self._http = None

    async def _emit(self, kind: str, alert: Alert) -> None:
        level = logging.INFO if kind == "recovery" else logging.WARNING
        log.log(level, "alert %s [%s] %s: %s", kind, alert.key, alert.title, alert.detail)
        self.history.append((kind, alert))
        del self.history[:-200]
        if self._on_send is not None:
            self._on_send(kind, alert)
        url = self.settings.webhook_url
        if url is None:
            return
        body = alert_body(alert, kind=kind, slack=self.settings.slack)
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.settings.timeout_s)
        try:
            response = await self._http.post(
                url.get_secret_value(), json=body, timeout=self.settings.timeout_s
            )
        except httpx.HTTPError as exc:
            log.warning("alert webhook %s failed: %s", url.masked, type(exc).__name__)
            return
        if response.status_code >= 300:
            log.warning("alert webhook %s answered HTTP %s", url.masked, response.status_code)
