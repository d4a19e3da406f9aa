"""The key reference of docs/configuration.md, generated from the models.

The docs embed this output between markers and a test compares them, so the documented
types, defaults and env var names cannot drift from the code. Regenerate with
``python -m catalyst_ibkr.config.reference``.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticUndefined

from catalyst_ibkr.config.coercion import spec_for
from catalyst_ibkr.config.describe import masked_value
from catalyst_ibkr.config.loader import ENV_ALIASES, SEED_ENV, env_var_name
from catalyst_ibkr.config.settings import SECTION_MODELS

__all__ = ["render_reference"]

_DERIVED = {
    ("pacing", "state_dir"): "`$XDG_STATE_HOME/catalyst-ibkr`",
    ("gateway", "pin_store"): "`$XDG_CONFIG_HOME/catalyst-ibkr/pins.json`",
}


def _default(section: str, key: str, default: Any) -> str:
    if (section, key) in _DERIVED:
        return _DERIVED[(section, key)]
    if default is None or default is PydanticUndefined:
        return "unset"
    value = masked_value(default)
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list):
        return "`[" + ", ".join(f'"{item}"' for item in value) + "]`"
    return f"`{value}`"


def _env(section: str, key: str) -> str:
    names = [env_var_name(section, key)]
    names += [alias for alias, target in ENV_ALIASES.items() if target == (section, key)]
    names += [seed for seed, target in SEED_ENV.items() if target == (section, key)]
    return ", ".join(f"`{name}`" for name in names)


def render_reference() -> str:
    """Markdown: one table per section (key, type, default, env var, description)."""
    parts: list[str] = []
    for section, model in SECTION_MODELS.items():
        doc = (model.__doc__ or "").strip().splitlines()[0]
        parts.append(f"### `[{section}]`\n\n{doc}\n")
        parts.append("| key | type | default | env var | description |")
        parts.append("|---|---|---|---|---|")
        for key, field in model.model_fields.items():
            spec = spec_for(field)
            kind = spec.expected + (" or unset" if spec.optional else "")
            description = (field.description or "").replace("|", "\\|")
            parts.append(
                f"| `{key}` | {kind} | {_default(section, key, field.default)} | "
                f"{_env(section, key)} | {description} |"
            )
        parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_reference())
