"""``build_watchdog``: the [watchdog] section decides which steps exist."""

from __future__ import annotations

from datetime import time

import pytest

from catalyst_ibkr.adapters.memory import MemoryBroker
from catalyst_ibkr.config.loader import load_settings
from catalyst_ibkr.config.sections_ops import AlertsSettings
from catalyst_ibkr.service.alerts import Alerter
from catalyst_ibkr.service.watchdog import build_watchdog
from catalyst_ibkr.service.watchdog.broker_session import BrokerSessionSource

CONFIG = """
[pacing]
time_scale = 10
[watchdog]
check_interval_s = 20
unauthenticated_grace_s = 40
ibeam_health_url = "http://ibeam:5001"
docker_restart = true
docker_url = "http://docker-proxy:2375"
docker_container = "catalyst-ibeam"
restart_cooldown_s = 600
daily_reset_timezone = "Europe/Zurich"
daily_reset_start = "23:50"
daily_reset_window_s = 3600
"""


async def test_every_configured_step_is_built_with_scaled_durations() -> None:
    settings = load_settings(CONFIG, {}).settings
    watchdog = build_watchdog(settings, BrokerSessionSource(MemoryBroker()),
                              Alerter(AlertsSettings()))
    try:
        assert watchdog.ibeam is not None and watchdog.ibeam.base_url == "http://ibeam:5001"
        assert watchdog.docker is not None
        assert (watchdog.docker.base_url, watchdog.docker.container) == (
            "tcp://docker-proxy:2375", "catalyst-ibeam")
        policy = watchdog.policy
        assert (policy.check_interval_s, policy.grace_s, policy.restart_cooldown_s) == (20, 40, 600)
        assert policy.scaled(policy.grace_s) == 4.0
        window = watchdog.reset_window
        assert window is not None and window.timezone == "Europe/Zurich"
        assert window.start == time(23, 50)
    finally:
        await watchdog.stop()


async def test_defaults_only_watch_and_reauthenticate(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(None, {}).settings
    watchdog = build_watchdog(settings, BrokerSessionSource(MemoryBroker()),
                              Alerter(AlertsSettings()))
    assert watchdog.ibeam is None and watchdog.docker is None
    settings = load_settings("[watchdog]\ndocker_restart = true\n", {}).settings
    watchdog = build_watchdog(settings, BrokerSessionSource(MemoryBroker()),
                              Alerter(AlertsSettings()))
    assert watchdog.docker is None
    assert "docker_url is not set" in caplog.text
