"""Every knob of one simulator run, in one immutable value.

The CLI (``catalyst-ibkr sim``), ``python -m ibkr_sim``, the pytest fixture and the demo all
build a ``SimOptions`` and hand it to ``ibkr_sim.server``; nothing else reads flags or files,
so the three entry points cannot drift apart.  Every duration is in IBKR (simulated) seconds;
``time_scale`` divides them all in wall-clock terms.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

__all__ = ["DEFAULT_STATE_DIR", "SimOptions", "load_config", "parse_hhmm"]

DEFAULT_STATE_DIR = Path("~/.cache/catalyst-ibkr/sim").expanduser()


@dataclass(frozen=True)
class SimOptions:
    """Settings of one simulator; defaults mirror a freshly IBeam-authenticated gateway."""

    host: str = "127.0.0.1"
    port: int = 5000
    tls: bool = True
    state_dir: Path = DEFAULT_STATE_DIR
    seed: int = 0
    time_scale: float = 1.0
    pacing: bool = True
    penalty_s: float = 900.0
    market_hours: Literal["always", "nyse"] = "always"
    tws_port: int | None = None
    account_id: str = "DU1234567"
    idle_timeout_s: float = 360.0
    relogin_s: float = 5.0
    competing_grace_s: float = 10.0
    daily_reset: time | None = None
    size_limit: Decimal = Decimal("500")
    value_limit: Decimal = Decimal("100000")
    price_constraint_pct: Decimal = Decimal("3")
    ticker_interval_s: float = 0.05
    history_latency_s: float = 0.25
    """Sim seconds one /iserver/marketdata/history request takes (makes its 5-concurrent cap
    observable)."""
    persist_path: Path | None = None
    """Opt-in persistent book (``--persist FILE``): restored on start, saved on change."""
    persist_debounce_s: float = 0.2
    """Real seconds a change may wait before the book is written (always written on stop)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Refuse settings that cannot work, with a message that says what to fix."""
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        if not self.time_scale > 0:
            raise ValueError(f"time scale must be > 0, got {self.time_scale}")
        if self.penalty_s < 0:
            raise ValueError(f"penalty must be >= 0 seconds, got {self.penalty_s}")
        if self.market_hours not in ("always", "nyse"):
            raise ValueError(f"market hours must be 'always' or 'nyse', got {self.market_hours!r}")
        for name in ("idle_timeout_s", "relogin_s", "competing_grace_s", "history_latency_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


def parse_hhmm(text: str) -> time:
    """Parse ``HH:MM`` (24 h, UTC) for ``--daily-reset``."""
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"expected HH:MM (24-hour, UTC), got {text!r}") from exc


_CONFIG_KEYS = {f.name for f in fields(SimOptions)} - {
    "extra", "state_dir", "daily_reset", "persist_path"
}


def load_config(path: Path, base: SimOptions) -> SimOptions:
    """Apply the ``[sim]`` table of a TOML file on top of ``base``; unknown keys are errors.

    Keys are the option names above (``time_scale``, ``penalty_s``, ``size_limit`` ...), plus
    ``state_dir``, ``persist_path`` and ``daily_reset`` ("HH:MM"). Other sections of the
    shared config file are ignored: they belong to the gateway, not to the broker side.
    """
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read config {path}: {exc}") from exc
    table = data.get("sim", {})
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [sim] must be a table")
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("state_dir", "persist_path"):
            changes[key] = Path(str(value)).expanduser()
        elif key == "daily_reset":
            changes[key] = parse_hhmm(str(value))
        elif key in ("size_limit", "value_limit", "price_constraint_pct"):
            changes[key] = Decimal(str(value))
        elif key in _CONFIG_KEYS:
            changes[key] = value
        else:
            raise ValueError(f"{path}: unknown key [sim] {key!r}")
    options = replace(base, **changes)
    options.validate()
    return options
