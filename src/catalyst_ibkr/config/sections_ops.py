"""The operations sections: ``[watchdog]`` (session recovery) and ``[alerts]`` (webhooks).

Defaults are the quiet, conservative choice: the watchdog watches and reauthenticates but
never restarts a container unless told to; alerts go only to the log until a webhook is set.
"""

from __future__ import annotations

import re
from datetime import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from catalyst_ibkr.config.secrets import WebhookUrl
from catalyst_ibkr.config.sections import SectionModel

__all__ = ["AlertsSettings", "WatchdogSettings"]


class WatchdogSettings(SectionModel):
    """The session watchdog inside the service."""

    enabled: bool = Field(default=True, description="Run the session watchdog in the service.")
    check_interval_s: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="How often the watchdog checks the session, in seconds.",
    )
    unauthenticated_grace_s: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description=(
            "How long the session may stay unauthenticated (while reauthenticating) before "
            "the watchdog escalates to IBeam's health server, in seconds."
        ),
    )
    ibeam_health_url: str | None = Field(
        default=None,
        description="IBeam's health server (e.g. http://ibeam:5001) for /readyz and /activate.",
    )
    docker_restart: bool = Field(
        default=False,
        description="Allow restarting the IBeam container as the last resort (off by default).",
    )
    docker_url: str | None = Field(
        default=None,
        description=(
            "Docker Engine API of a docker-socket-proxy limited to the IBeam container "
            "(e.g. http://docker-proxy:2375). The service never mounts the Docker socket."
        ),
    )
    docker_container: str = Field(
        default="catalyst-ibeam",
        min_length=1,
        description="Name of the IBeam container to restart.",
    )
    restart_cooldown_s: float = Field(
        default=900.0, ge=0, le=86_400, description="Minimum time between two restarts, in seconds."
    )
    take_over_competing: bool = Field(
        default=False,
        description=(
            "When another platform holds the brokerage session, take it over (ssodh/init "
            "compete=true disconnects TWS / IBKR Mobile of the same user). Off: alert and "
            "wait for a person."
        ),
    )
    daily_reset_timezone: str = Field(
        default="America/New_York",
        description="Time zone of IBKR's daily session reset for this account's region.",
    )
    daily_reset_start: str = Field(
        default="23:55",
        description=(
            "Local time (HH:MM) when the daily-reset hold starts; the hold is planned, not alarmed."
        ),
    )
    daily_reset_window_s: float = Field(
        default=4800.0,
        ge=0,
        le=43_200,
        description=(
            "Length of the daily-reset hold, in seconds (default covers both midnight and "
            "the ~01:00 brokerage break IBKR documents)."
        ),
    )

    @field_validator("daily_reset_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "America" is a directory
            raise ValueError(f"unknown time zone {value!r} (e.g. America/New_York)") from exc
        return value

    @field_validator("daily_reset_start")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"[0-2][0-9]:[0-5][0-9]", value):
            raise ValueError(f"{value!r} is not a time as HH:MM (e.g. 23:55)")
        hour, minute = (int(part) for part in value.split(":"))
        if hour > 23:
            raise ValueError(f"{value!r} is not a time as HH:MM (e.g. 23:55)")
        time(hour, minute)
        return value

    @field_validator("ibeam_health_url", "docker_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} must be an http:// or https:// URL")
        return value


class AlertsSettings(SectionModel):
    """Where alerts go."""

    webhook_url: WebhookUrl | None = Field(
        default=None,
        description=(
            "Webhook that receives alerts as a JSON POST (its path and query are masked "
            "everywhere). Unset: alerts only go to the log."
        ),
    )
    slack: bool = Field(default=False, description='Send a Slack-compatible body ({"text": ...}).')
    dedupe_window_s: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="The same alert is sent at most once per window, in seconds.",
    )
    timeout_s: float = Field(
        default=5.0, gt=0, le=120, description="Timeout of one webhook POST, in seconds."
    )
    announce_recovery: bool = Field(
        default=True, description="Send a message when an alerted condition clears."
    )

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: WebhookUrl | None) -> WebhookUrl | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("webhook_url must be an http:// or https:// URL with a host")
        return value
