"""Where the pacing governor keeps its send log: one small JSON file per gateway.

Why a file and not memory: IBKR counts requests per client IP, not per process. A `quote`
followed at once by a `buy` in a second process, or a restart, must see the sends the
previous process made, or the second process overruns the window. Every read-modify-write
happens under an exclusive ``filelock`` so concurrent processes on one machine serialise.
The critical section is a few microseconds (read, prune, append, atomic replace).

State shape (version 2)::

    {"version": 2, "origin": <epoch s when the state was first created>,
     "sends": {"<scope>": [[<granted at>, <finished at or null>, "<id>"], ...]},
     "penalty": {"<scope>": <epoch s until which the scope is paused>}}

A send stays "in flight" (finished null) until its answer (or failure) arrives: IBKR counts
a request when it *arrives*, which is some time between our grant and the answer, so the
governor counts an in-flight send as arriving "now" and a finished one at its finish time
(the latest moment it can have arrived). Any other version counts as "no state".
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from filelock import FileLock, Timeout

from .errors import LocalSetupError

__all__ = [
    "FilePacingStore",
    "MemoryPacingStore",
    "PacingState",
    "PacingStore",
    "SendRecord",
    "default_state_path",
]

T = TypeVar("T")
_LOCK_TIMEOUT_S = 10.0


@dataclass
class SendRecord:
    """One granted request: when granted, when its answer came (None: in flight), its id."""

    start: float
    end: float | None
    ident: str

    def to_json(self) -> list[Any]:
        return [self.start, self.end, self.ident]

    @classmethod
    def from_json(cls, raw: object) -> SendRecord | None:
        if not isinstance(raw, list) or len(raw) != 3:
            return None
        start, end, ident = raw
        if not isinstance(start, int | float) or isinstance(start, bool):
            return None
        if end is not None and (not isinstance(end, int | float) or isinstance(end, bool)):
            return None
        return cls(float(start), None if end is None else float(end), str(ident))


@dataclass
class PacingState:
    """The shared send log. ``origin`` is None until the state is first created."""

    origin: float | None = None
    sends: dict[str, list[SendRecord]] = field(default_factory=dict)
    penalty: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 2,
            "origin": self.origin,
            "sends": {k: [r.to_json() for r in v] for k, v in self.sends.items()},
            "penalty": self.penalty,
        }

    @classmethod
    def from_json(cls, data: object) -> PacingState:
        """Read a stored state; anything malformed counts as "no state" (the safe side)."""
        if not isinstance(data, dict) or data.get("version") != 2:
            return cls()
        origin = data.get("origin")
        sends_raw = data.get("sends")
        penalty_raw = data.get("penalty")
        sends: dict[str, list[SendRecord]] = {}
        if isinstance(sends_raw, dict):
            for scope, records in sends_raw.items():
                if not isinstance(records, list):
                    return cls()
                parsed = [SendRecord.from_json(r) for r in records]
                if any(r is None for r in parsed):
                    return cls()
                sends[str(scope)] = [r for r in parsed if r is not None]
        penalty: dict[str, float] = {}
        if isinstance(penalty_raw, dict):
            for scope, until in penalty_raw.items():
                if isinstance(until, int | float):
                    penalty[str(scope)] = float(until)
        return cls(
            origin=float(origin) if isinstance(origin, int | float) else None,
            sends=sends,
            penalty=penalty,
        )


class PacingStore(Protocol):
    """Runs ``update`` on the current state atomically and persists what it leaves."""

    def transact(self, update: Callable[[PacingState], T]) -> T: ...


class MemoryPacingStore:
    """In-process store for unit tests and throwaway clients (not shared across processes)."""

    def __init__(self) -> None:
        self.state = PacingState()

    def transact(self, update: Callable[[PacingState], T]) -> T:
        return update(self.state)


class FilePacingStore:
    """JSON file + ``<file>.lock``; shared by every process that uses the same path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock", timeout=_LOCK_TIMEOUT_S)

    def transact(self, update: Callable[[PacingState], T]) -> T:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                state = self._load()
                result = update(state)
                self._save(state)
                return result
        except Timeout as exc:
            raise LocalSetupError(
                f"the pacing state {self.path} stayed locked for {_LOCK_TIMEOUT_S:.0f} s",
                hint="Another catalyst-ibkr process may be stuck; stop it and retry",
            ) from exc
        except OSError as exc:
            raise LocalSetupError(
                f"cannot use the pacing state file {self.path} ({exc.strerror or exc})"
            ) from exc

    def _load(self) -> PacingState:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return PacingState()
        try:
            return PacingState.from_json(json.loads(raw))
        except (ValueError, TypeError):
            return PacingState()

    def _save(self, state: PacingState) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".pacing-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state.to_json(), fh, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def default_state_path(host: str, port: int, base: Path | None = None) -> Path:
    """``$XDG_STATE_HOME/catalyst-ibkr/pacing/<host>_<port>.json`` (one file per gateway)."""
    if base is None:
        xdg = os.environ.get("XDG_STATE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".local" / "state") / "catalyst-ibkr"
    safe_host = re.sub(r"[^A-Za-z0-9.-]", "_", host) or "gateway"
    return base / "pacing" / f"{safe_host}_{port}.json"
