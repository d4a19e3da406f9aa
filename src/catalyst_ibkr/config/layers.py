"""Raw config values in layers, with their origin and the problems found on the way.

Shared by the file, environment and flag readers so that every message has the same shape:
``<file>: [section] key: what is wrong (set by <origin>)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from catalyst_ibkr.config.coercion import ValueSpec, spec_for
from catalyst_ibkr.config.errors import ConfigIssue
from catalyst_ibkr.config.settings import SECTION_MODELS, SECTIONS

__all__ = ["Collector", "key_spec", "label", "nearest", "unknown_key_message"]


def key_spec(section: str, key: str) -> ValueSpec:
    """What ``[section] key`` accepts."""
    return spec_for(SECTION_MODELS[section].model_fields[key])


def label(section: str, key: str) -> str:
    return f"[{section}] {key}"


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


class Collector:
    """Raw values per section with their origin, and the issues found on the way."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.raw: dict[str, dict[str, object]] = {name: {} for name in SECTIONS}
        self.sources: dict[str, str] = {}
        self.issues: list[ConfigIssue] = []
        self.warnings: list[str] = []

    def issue(self, key: str | None, message: str, origin: str | None = None) -> None:
        self.issues.append(ConfigIssue(self.where, key, message, origin))

    def set(self, section: str, key: str, value: object, origin: str | None) -> None:
        self.raw[section][key] = value
        if origin is not None:
            self.sources[f"{section}.{key}"] = origin
        else:
            self.sources.pop(f"{section}.{key}", None)


def unknown_key_message(section: str, key: str) -> str:
    valid = list(SECTION_MODELS[section].model_fields)
    near = nearest(key, valid)
    hint = f"did you mean '{near}'? " if near else ""
    return f"unknown key '{key}' in [{section}]; {hint}(valid keys: {', '.join(valid)})"
