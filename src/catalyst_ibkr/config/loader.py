"""Loading: a pure function from (file text, environment, flag overrides) to ``Settings``.

Precedence, lowest first: built-in default < ``IBEAM_URL`` (the seed's name, a deployment-wide
fallback for the gateway URL; interfaces.md: "config, then IBEAM_URL") < the config file <
``CATALYST_<SECTION>_<KEY>`` (and ``CATALYST_API_KEY`` / ``CATALYST_ADMIN_KEY``) < flags.

Every problem is collected and reported together, each naming the file, the key, what was
wrong, what is expected, and the variable or flag that set it. Secret values are never echoed.
``IBEAM_PASSWORD`` (IBeam's own login secret) and ``IBEAM_ACCOUNT`` (IBeam's login *user
name*, not an account id) are deliberately never read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from catalyst_ibkr.config.coercion import (
    Kind,
    ValueTypeError,
    check_file_value,
    parse_env_value,
    spec_for,
)
from catalyst_ibkr.config.env import (
    ENV_ALIASES,
    ENV_PREFIX,
    SEED_ENV,
    apply_env,
    apply_seed_env,
    env_var_name,
    read_secret_file,
    resolve_secret_files,
)
from catalyst_ibkr.config.errors import ConfigError
from catalyst_ibkr.config.guards import (
    mode_account_problem,
    time_scale_problem,
    tws_port_warning,
)
from catalyst_ibkr.config.layers import Collector, key_spec, label, nearest, unknown_key_message
from catalyst_ibkr.config.risk_table import RiskTableError, validate_risk_table
from catalyst_ibkr.config.sections import SectionModel
from catalyst_ibkr.config.settings import (
    SECTION_MODELS,
    SECTIONS,
    LoadedSettings,
    RiskSettings,
    Settings,
)

__all__ = [
    "DEFAULT_CONFIG_FILENAME",
    "ENV_ALIASES",
    "ENV_PREFIX",
    "FOREIGN_SECTIONS",
    "SEED_ENV",
    "Override",
    "env_var_name",
    "key_spec",
    "load_settings",
    "read_settings",
]

DEFAULT_CONFIG_FILENAME = "catalyst-ibkr.toml"
#: Sections of the shared file that other programs own and validate: ``[sim]`` is read by
#: ``catalyst-ibkr sim`` (ibkr_sim.options), the broker side, never by the gateway.
FOREIGN_SECTIONS: tuple[str, ...] = ("sim",)
_SECRET_KEYS_BETTER_IN_ENV: Mapping[str, str] = {
    "service.api_key": "CATALYST_API_KEY",
    "service.admin_key": "CATALYST_ADMIN_KEY",
    "alerts.webhook_url": "CATALYST_ALERTS_WEBHOOK_URL",
}


@dataclass(frozen=True)
class Override:
    """A command-line value: ``key`` is ``"section.key"``, ``origin`` e.g. ``"flag --gateway"``."""

    key: str
    value: object
    origin: str


def _apply_derived_defaults(collector: Collector, env: Mapping[str, str]) -> None:
    home = env.get("HOME")
    state_home = env.get("XDG_STATE_HOME") or (f"{home}/.local/state" if home else None)
    config_home = env.get("XDG_CONFIG_HOME") or (f"{home}/.config" if home else None)
    if state_home:
        collector.set("pacing", "state_dir", f"{state_home}/catalyst-ibkr", None)
    if config_home:
        collector.set("gateway", "pin_store", f"{config_home}/catalyst-ibkr/pins.json", None)


def _apply_file(collector: Collector, data: Mapping[str, Any]) -> None:
    for section, table in data.items():
        if section in FOREIGN_SECTIONS:
            continue
        if section not in SECTIONS:
            owners = [
                name for name, model in SECTION_MODELS.items() if section in model.model_fields
            ]
            if not isinstance(table, dict) and owners:
                hint = f"did you mean [{owners[0]}] {section}? keys go inside a section"
            else:
                near = nearest(section, SECTIONS)
                hint = f"did you mean [{near}]?" if near else "no such section"
            collector.issue(
                f"[{section}]",
                f"unknown section; {hint} (valid sections: {', '.join(SECTIONS)})",
            )
            continue
        if not isinstance(table, dict):
            collector.issue(
                f"[{section}]", f"expected a table ([{section}] with keys), got {table!r}"
            )
            continue
        for key, value in table.items():
            if section == "risk":
                collector.set("risk", key, value, "file")
                continue
            if key not in SECTION_MODELS[section].model_fields:
                collector.issue(label(section, key), unknown_key_message(section, key))
                continue
            try:
                checked = check_file_value(key_spec(section, key), value)
            except ValueTypeError as exc:
                collector.issue(label(section, key), str(exc))
                continue
            collector.set(section, key, checked, "file")
            better = _SECRET_KEYS_BETTER_IN_ENV.get(f"{section}.{key}")
            is_db = (section, key) == ("oms", "db_url") and isinstance(checked, str)
            if is_db and urlsplit(str(checked)).password:
                better = "CATALYST_OMS_DB_URL"
            if better is not None:
                collector.warnings.append(
                    f"{collector.where}: {label(section, key)} is a secret in the config file; "
                    f"prefer the environment variable {better}"
                )


def _apply_overrides(collector: Collector, overrides: Iterable[Override]) -> None:
    for override in overrides:
        section, _, key = override.key.partition(".")
        if section not in SECTION_MODELS or key not in SECTION_MODELS[section].model_fields:
            raise ValueError(f"override for unknown key {override.key!r}")  # a programming error
        if override.value is None:
            continue
        spec = key_spec(section, key)
        try:
            value = (
                parse_env_value(spec, override.value)
                if isinstance(override.value, str)
                else check_file_value(spec, _as_toml(override.value))
            )
        except ValueTypeError as exc:
            collector.issue(label(section, key), str(exc), override.origin)
            continue
        collector.set(section, key, value, override.origin)


def _as_toml(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _expand_home(collector: Collector, env: Mapping[str, str]) -> None:
    home = env.get("HOME")
    if not home:
        return
    for section, model in SECTION_MODELS.items():
        for key, field in model.model_fields.items():
            if spec_for(field).kind is not Kind.PATH:
                continue
            value = collector.raw[section].get(key)
            if isinstance(value, str) and (value == "~" or value.startswith("~/")):
                collector.raw[section][key] = home + value[1:]


def _validation_issues(collector: Collector, section: str, error: ValidationError) -> None:
    for detail in error.errors():
        key = str(detail["loc"][0]) if detail["loc"] else None
        message = str(detail["msg"]).removeprefix("Value error, ")
        origin = collector.sources.get(f"{section}.{key}") if key else None
        if (
            key is not None
            and not key_spec(section, key).secret
            and detail["type"] != "value_error"
        ):
            message += f" (got {detail['input']!r})"
        where = label(section, key) if key is not None else f"[{section}]"
        collector.issue(where, message, origin)


def _build(collector: Collector) -> Settings | None:
    sections: dict[str, SectionModel] = {}
    for section, model in SECTION_MODELS.items():
        try:
            sections[section] = model.model_validate(collector.raw[section])
        except ValidationError as exc:
            _validation_issues(collector, section, exc)
    risk_raw = collector.raw["risk"]
    try:
        validate_risk_table(risk_raw)
    except RiskTableError as exc:
        collector.issue(
            label("risk", exc.key), exc.problem, collector.sources.get(f"risk.{exc.key}")
        )
    if collector.issues:
        return None
    return Settings.model_validate({**sections, "risk": RiskSettings(table=risk_raw)})


def _cross_checks(collector: Collector, settings: Settings) -> None:
    problem = mode_account_problem(settings.gateway.mode, settings.gateway.account)
    if problem is not None:
        # Blame the key that was set on purpose: live mode, or else the live account.
        key = "mode" if settings.gateway.mode == "live" else "account"
        collector.issue(label("gateway", key), problem, collector.sources.get(f"gateway.{key}"))
    port_hint = tws_port_warning(settings)
    if port_hint is not None:
        collector.warnings.append(f"{collector.where}: {port_hint}")
    problem = time_scale_problem(settings)
    if problem is not None:
        collector.issue(
            label("pacing", "time_scale"), problem, collector.sources.get("pacing.time_scale")
        )


def load_settings(
    text: str | None,
    env: Mapping[str, str],
    *,
    path: str | Path | None = None,
    overrides: Iterable[Override] = (),
    read_file: Callable[[str], str] = read_secret_file,
) -> LoadedSettings:
    """Build settings from a config file's text (None: no file) and an environment mapping.

    Pure: reads nothing but its arguments, except the files named by ``*_FILE`` secret
    variables (e.g. ``CATALYST_API_KEY_FILE``), read through ``read_file``. Raises
    ConfigError listing every problem.
    """
    where = str(path) if path is not None else "(no config file; defaults)"
    collector = Collector(where)
    data: dict[str, Any] = {}
    if text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError.single(where, None, f"not valid TOML: {exc}") from None
    _apply_derived_defaults(collector, env)
    apply_seed_env(collector, env)
    _apply_file(collector, data)
    expanded_env, labels = resolve_secret_files(collector, env, read_file)
    apply_env(collector, expanded_env, labels)
    _apply_overrides(collector, overrides)
    if collector.issues:
        raise ConfigError(collector.issues)
    _expand_home(collector, env)
    settings = _build(collector)
    if settings is not None:
        _cross_checks(collector, settings)
    if collector.issues or settings is None:
        raise ConfigError(collector.issues)
    return LoadedSettings(
        settings=settings,
        path=Path(path) if path is not None else None,
        sources=dict(collector.sources),
        warnings=tuple(collector.warnings),
    )


def read_settings(
    config: Path | None,
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    overrides: Iterable[Override] = (),
) -> LoadedSettings:
    """Read ``config`` (or ``./catalyst-ibkr.toml`` if present) and load it.

    An explicit path that does not exist is an error; a missing default file means "use
    the defaults" (``LoadedSettings.path`` is then None).
    """
    if config is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_FILENAME
        if not candidate.is_file():
            return load_settings(None, env, overrides=overrides)
        config, shown = candidate, Path(DEFAULT_CONFIG_FILENAME) if cwd is None else candidate
    else:
        shown = config
    try:
        text = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.single(str(shown), None, "config file not found") from None
    except IsADirectoryError:
        raise ConfigError.single(str(shown), None, "is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError.single(
            str(shown), None, "cannot read the file (permission denied)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError.single(str(shown), None, f"not UTF-8 text ({exc.reason})") from None
    return load_settings(text, env, path=shown, overrides=overrides)
