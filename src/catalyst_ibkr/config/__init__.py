"""Configuration: one TOML file, overridable by ``CATALYST_<SECTION>_<KEY>`` env vars.

Use ``read_settings(path, os.environ)`` in entry points and ``load_settings(text, env)`` in
tests (pure). See docs/configuration.md for every key.
"""

from __future__ import annotations

from catalyst_ibkr.config.errors import ConfigError, ConfigIssue
from catalyst_ibkr.config.guards import (
    is_loopback_host,
    is_paper_account,
    mode_account_problem,
    service_bind_problem,
    time_scale_problem,
)
from catalyst_ibkr.config.loader import (
    DEFAULT_CONFIG_FILENAME,
    Override,
    env_var_name,
    load_settings,
    read_settings,
)
from catalyst_ibkr.config.secrets import MASK, DatabaseUrl, MaskedUrl, WebhookUrl
from catalyst_ibkr.config.sections import (
    DEFAULT_CONFIRMED_QUESTIONS,
    GatewaySettings,
    OmsSettings,
    PacingSettings,
    QuestionsSettings,
    ServiceSettings,
)
from catalyst_ibkr.config.sections_ops import AlertsSettings, WatchdogSettings
from catalyst_ibkr.config.settings import SECTIONS, LoadedSettings, RiskSettings, Settings

__all__ = [
    "DEFAULT_CONFIG_FILENAME",
    "DEFAULT_CONFIRMED_QUESTIONS",
    "MASK",
    "SECTIONS",
    "AlertsSettings",
    "ConfigError",
    "ConfigIssue",
    "DatabaseUrl",
    "GatewaySettings",
    "LoadedSettings",
    "MaskedUrl",
    "OmsSettings",
    "Override",
    "PacingSettings",
    "QuestionsSettings",
    "RiskSettings",
    "ServiceSettings",
    "Settings",
    "WatchdogSettings",
    "WebhookUrl",
    "env_var_name",
    "is_loopback_host",
    "is_paper_account",
    "load_settings",
    "mode_account_problem",
    "read_settings",
    "service_bind_problem",
    "time_scale_problem",
]
