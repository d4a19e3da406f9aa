"""Environment variables: ``CATALYST_<SECTION>_<KEY>``, the interface and seed names, ``*_FILE``.

``IBEAM_URL`` (the seed's name) is applied *below* the file; everything else above it.
``IBEAM_PASSWORD`` (IBeam's own login secret) and ``IBEAM_ACCOUNT`` (IBeam's login *user
name*, not an account id) are deliberately never read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from catalyst_ibkr.config.coercion import Kind, ValueTypeError, parse_env_value, spec_for
from catalyst_ibkr.config.layers import Collector, key_spec, label, nearest
from catalyst_ibkr.config.risk_table import known_risk_keys
from catalyst_ibkr.config.settings import SECTION_MODELS, SECTIONS

__all__ = [
    "ENV_ALIASES",
    "ENV_PREFIX",
    "SEED_ENV",
    "apply_env",
    "apply_seed_env",
    "env_var_name",
    "read_secret_file",
    "resolve_secret_files",
]

ENV_PREFIX = "CATALYST_"
#: The seed's variable names that mean the same as one of our keys (lowest env precedence).
SEED_ENV: Mapping[str, tuple[str, str]] = {"IBEAM_URL": ("gateway", "url")}
#: Other names for a key, equivalent to the generic ``CATALYST_<SECTION>_<KEY>``:
#: the service keys as interfaces.md names them, the pin file as the Web API adapter's TLS
#: module reads it (adapters/webapi/tls.py), and the journal URL as the Alembic environment
#: reads it (migrations/env.py).
ENV_ALIASES: Mapping[str, tuple[str, str]] = {
    "CATALYST_API_KEY": ("service", "api_key"),
    "CATALYST_ADMIN_KEY": ("service", "admin_key"),
    "CATALYST_GATEWAY_PINS_FILE": ("gateway", "pin_store"),
    "CATALYST_DB_URL": ("oms", "db_url"),
}


def env_var_name(section: str, key: str) -> str:
    """The environment variable that overrides ``[section] key``."""
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}"


def _apply_env_value(collector: Collector, section: str, key: str, text: str, origin: str) -> None:
    if section == "risk":
        collector.set("risk", key, text, origin)
        return
    try:
        value = parse_env_value(key_spec(section, key), text)
    except ValueTypeError as exc:
        collector.issue(label(section, key), str(exc), origin)
        return
    collector.set(section, key, value, origin)


def _split_env_name(name: str) -> tuple[str, str] | None:
    rest = name[len(ENV_PREFIX) :]
    for section in SECTIONS:
        prefix = section.upper() + "_"
        if rest.startswith(prefix) and len(rest) > len(prefix):
            return section, rest[len(prefix) :].lower()
    return None


def _all_env_names() -> list[str]:
    names = [env_var_name(s, k) for s, model in SECTION_MODELS.items() for k in model.model_fields]
    names += [env_var_name("risk", k) for k in known_risk_keys()]
    return names + list(ENV_ALIASES)


def apply_seed_env(collector: Collector, env: Mapping[str, str]) -> None:
    # Below the file on purpose: interfaces.md says "config, then IBEAM_URL".
    for name, (section, key) in SEED_ENV.items():
        if name in env and env[name].strip():
            _apply_env_value(collector, section, key, env[name], f"env {name}")


def _secret_env_names() -> list[str]:
    names = [
        env_var_name(section, key)
        for section, model in SECTION_MODELS.items()
        for key, field in model.model_fields.items()
        if spec_for(field).kind is Kind.SECRET
    ]
    aliases = [
        alias
        for alias, (section, key) in ENV_ALIASES.items()
        if spec_for(SECTION_MODELS[section].model_fields[key]).kind is Kind.SECRET
    ]
    return names + aliases


def read_secret_file(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def resolve_secret_files(
    collector: Collector, env: Mapping[str, str], read_file: Callable[[str], str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Replace ``NAME_FILE=/run/secrets/x`` by ``NAME=<file content>`` for secret keys.

    Docker and Kubernetes hand secrets over as files; this keeps them out of the process
    environment. Returns the expanded environment and, per NAME, the variable it came from.
    """
    expanded = dict(env)
    labels: dict[str, str] = {}
    for name in _secret_env_names():
        file_var = f"{name}_FILE"
        if file_var not in env:
            continue
        del expanded[file_var]
        if name in env:
            collector.issue(f"env {file_var}", f"{name} and {file_var} are both set; set only one")
            continue
        try:
            expanded[name] = read_file(env[file_var]).strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            collector.issue(
                f"env {file_var}", f"cannot read the secret file {env[file_var]!r}: {reason}"
            )
            continue
        labels[name] = file_var
    return expanded, labels


def apply_env(collector: Collector, env: Mapping[str, str], labels: Mapping[str, str]) -> None:
    aliased: dict[str, str] = {}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in ENV_ALIASES:
            continue
        split = _split_env_name(name)
        if split is None:
            near = nearest(name, _all_env_names())
            hint = f"; did you mean {near}?" if near else ""
            collector.warnings.append(
                f"environment variable {name} is not a catalyst-ibkr setting (ignored){hint}"
            )
            continue
        section, key = split
        if section != "risk" and key not in SECTION_MODELS[section].model_fields:
            valid = list(SECTION_MODELS[section].model_fields)
            stem = key.removesuffix("_file")
            if stem != key and stem in valid:
                collector.issue(
                    f"env {name}",
                    f"only secrets can be read from a file (*_FILE); set "
                    f"{env_var_name(section, stem)} directly",
                )
                continue
            near_key = nearest(key, valid)
            hint = f"did you mean {env_var_name(section, near_key)}? " if near_key else ""
            collector.issue(
                f"env {name}",
                f"no key '{key}' in [{section}]; {hint}(valid keys: {', '.join(valid)})",
            )
            continue
        _apply_env_value(collector, section, key, env[name], f"env {labels.get(name, name)}")
        aliased[f"{section}.{key}"] = env[name]
    for name, (section, key) in ENV_ALIASES.items():
        if name not in env:
            continue
        generic = env_var_name(section, key)
        if f"{section}.{key}" in aliased and aliased[f"{section}.{key}"] != env[name]:
            collector.issue(
                label(section, key),
                f"{name} and {generic} are both set and differ; set only one",
            )
            continue
        _apply_env_value(collector, section, key, env[name], f"env {labels.get(name, name)}")
