"""An opt-in persistent book (``--persist FILE``): the engine's state as versioned JSON.

A real IBKR account keeps its cash, positions, orders and executions between a client's
sessions; a simulator that starts flat on every run makes a client with a journal see drift
that a real account would never show. This module turns the engine's book into plain JSON and
back. Decimals are strings and datetimes ISO 8601 UTC, so nothing is lost to floats.

Restored: cash and holdings (with average cost and realized P&L), every order with its status
(working orders keep working), every execution, the cOID registry (a cOID stays "already
registered" for 24 hours across restarts), the order-id and execution-id counters (never
reused) and market overrides. Not restored: the gateway's session, pacing and faults (a
restart of the real gateway loses those too). The clock starts at the real time again, unless
the book was saved at a later sim time (a ``--time-scale`` run): then it resumes from there,
so no order or cOID lies in the simulator's future.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import typing
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ibkr_sim.engine.portfolio import _Holding
from ibkr_sim.engine.types import Execution, SimOrder

if TYPE_CHECKING:
    from ibkr_sim.engine.engine import SimEngine

__all__ = [
    "FORMAT", "VERSION", "PersistentBook", "SnapshotError",
    "dump", "load_file", "restore", "save_file",
]

FORMAT = "ibkr_sim.book"
VERSION = 1


class SnapshotError(ValueError):
    """The state file cannot be used; the message names the file and how to fix it."""


def _kinds(cls: type) -> dict[str, str]:
    """Field name -> "decimal" | "datetime" | "plain", from the dataclass's annotations."""
    hints = typing.get_type_hints(cls)
    out: dict[str, str] = {}
    for f in fields(cls):
        text = str(hints[f.name])
        out[f.name] = "decimal" if "Decimal" in text else "datetime" if "datetime" in text else (
            "plain"
        )
    return out


_ORDER_KINDS = _kinds(SimOrder)
_EXEC_KINDS = _kinds(Execution)


def _enc(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _dec(kind: str, value: Any) -> Any:
    if value is None or kind == "plain":
        return value
    if kind == "decimal":
        return Decimal(str(value))
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no timezone")
    return parsed


def _record(obj: SimOrder | Execution) -> dict[str, Any]:
    return {f.name: _enc(getattr(obj, f.name)) for f in fields(obj)}


def _order(data: dict[str, Any]) -> SimOrder:
    return SimOrder(**{k: _dec(_ORDER_KINDS[k], v) for k, v in data.items()})


def _execution(data: dict[str, Any]) -> Execution:
    return Execution(**{k: _dec(_EXEC_KINDS[k], v) for k, v in data.items()})


def dump(engine: SimEngine) -> dict[str, Any]:
    """The engine's whole book as JSON-ready data (call with the engine's lock held)."""
    book = engine._book
    folio = engine._portfolio
    return {
        "format": FORMAT,
        "version": VERSION,
        "account_id": engine.account_id,
        "saved_at": engine.clock.now().isoformat(),
        "next_order_id": book._next_id,
        "exec_seq": engine._exec_seq,
        "portfolio": {
            "starting_cash": str(folio.starting_cash),
            "cash": str(folio.cash),
            "realized": str(folio.realized),
            "commissions": str(folio.commissions),
            "day": folio._day.isoformat() if folio._day else None,
            "day_start_nlv": str(folio._day_start_nlv),
            "holdings": [
                {"conid": h.conid, "symbol": h.symbol, "quantity": str(h.quantity),
                 "avg_cost": str(h.avg_cost), "realized": str(h.realized)}
                for h in folio.holdings()
            ],
        },
        "orders": [_record(o) for o in book.orders.values()],
        "executions": [_record(e) for e in engine._executions],
        "fills": [
            {"order_id": oid, "value": str(value), "count": engine._fill_count.get(oid, 0)}
            for oid, value in engine._fill_value.items()
        ],
        "working": list(book.working),
        "held": [{"parent": p, "children": c} for p, c in book.held.items()],
        "coids": [
            {"account": a, "coid": c, "at": at.isoformat(), "order_id": oid}
            for (a, c), (at, oid) in book.coids.items()
        ],
        "oca": [{"account": a, "key": k, "orders": ids} for (a, k), ids in book.oca.items()],
        "market_pins": [
            {"conid": conid, "last": str(last), "bid": str(bid), "ask": str(ask)}
            for conid, (last, bid, ask) in engine.market.pinned().items()
        ],
    }


def restore(engine: SimEngine, data: dict[str, Any], source: Path) -> None:
    """Replace the engine's book with ``data``; SnapshotError (nothing changed) if unusable."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _error(source, "it is not an ibkr_sim book file")
    if data.get("version") != VERSION:
        raise _error(
            source, f"it has format version {data.get('version')!r}; this simulator reads "
            f"version {VERSION}"
        )
    if data.get("account_id") != engine.account_id:
        raise _error(
            source, f"it holds account {data.get('account_id')!r}, this simulator serves "
            f"{engine.account_id!r}"
        )
    try:
        folio = data["portfolio"]
        orders = {o.order_id: o for o in map(_order, data["orders"])}
        executions = [_execution(e) for e in data["executions"]]
        holdings = {
            int(h["conid"]): _Holding(
                int(h["conid"]), str(h["symbol"]), Decimal(h["quantity"]),
                Decimal(h["avg_cost"]), Decimal(h["realized"]),
            )
            for h in folio["holdings"]
        }
        fill_value = {int(f["order_id"]): Decimal(f["value"]) for f in data["fills"]}
        fill_count = {int(f["order_id"]): int(f["count"]) for f in data["fills"]}
        working = {int(i): None for i in data["working"]}
        held = {int(h["parent"]): [int(c) for c in h["children"]] for h in data["held"]}
        coids = {
            (str(c["account"]), str(c["coid"])): (_dec("datetime", c["at"]), int(c["order_id"]))
            for c in data["coids"]
        }
        oca = {(str(o["account"]), str(o["key"])): [int(i) for i in o["orders"]]
               for o in data["oca"]}
        pins = [
            (int(p["conid"]), Decimal(p["last"]), Decimal(p["bid"]), Decimal(p["ask"]))
            for p in data["market_pins"]
        ]
        saved_at = _dec("datetime", data["saved_at"])
        next_order_id = int(data["next_order_id"])
        exec_seq = int(data["exec_seq"])
        cash, realized = Decimal(folio["cash"]), Decimal(folio["realized"])
        commissions = Decimal(folio["commissions"])
        day = date.fromisoformat(folio["day"]) if folio["day"] else None
        day_start_nlv = Decimal(folio["day_start_nlv"])
        referenced = set(working) | set(held) | {i for c in held.values() for i in c}
        if not referenced <= set(orders) or any(e.order_id not in orders for e in executions):
            raise ValueError("it refers to orders it does not contain")
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
        raise _error(source, f"it is damaged ({type(exc).__name__}: {exc})") from exc
    engine.reset()
    try:
        for conid, last, bid, ask in pins:
            engine.market.set(conid, last=last, bid=bid, ask=ask)
    except (ValueError, LookupError) as exc:
        engine.reset()
        raise _error(source, f"a market override is unusable ({exc})") from exc
    book = engine._book
    book._next_id = max(book._next_id, next_order_id)
    book.orders, book.working, book.held, book.coids, book.oca = (
        orders, working, held, coids, oca
    )
    engine._exec_seq = max(engine._exec_seq, exec_seq)
    engine._executions = executions
    engine._fill_value, engine._fill_count = fill_value, fill_count
    p = engine._portfolio
    p.cash, p.realized, p.commissions = cash, realized, commissions
    p._holdings, p._day, p._day_start_nlv = holdings, day, day_start_nlv
    behind = (saved_at - engine.clock.now()).total_seconds()
    if behind > 0:  # a --time-scale run got ahead of real time: sim time never goes back
        engine.clock.advance(behind)


def _error(source: Path, why: str) -> SnapshotError:
    return SnapshotError(
        f"cannot restore the simulator's book from {source}: {why}. Delete {source} to start "
        "again with a fresh account (or run without --persist)"
    )


def load_file(engine: SimEngine, path: Path) -> bool:
    """Restore from ``path`` if it exists; False when there was nothing to restore."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _error(path, f"it cannot be read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _error(path, f"it is not valid JSON ({exc})") from exc
    with engine._lock:
        restore(engine, data, path)
    return True


def save_file(engine: SimEngine, path: Path) -> None:
    """Write the book atomically: a temp file in the same directory, fsync, os.replace."""
    with engine._lock:
        text = json.dumps(dump(engine), separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class PersistentBook:
    """Keeps ``path`` in step with the engine: restore on creation, save soon after changes.

    Engine events mark the book dirty; ``maybe_save`` (called from the server's ticker) writes
    at most once per ``debounce_s`` real seconds, and ``save`` (on stop and reset) writes now.
    A market override is not an engine event, so the pins are compared on each tick too.
    """

    def __init__(self, engine: SimEngine, path: Path, debounce_s: float = 0.2) -> None:
        self.engine = engine
        self.path = path
        self.debounce_s = debounce_s
        self.restored = load_file(engine, path)
        self._pins = engine.market.pinned()
        self._dirty = False
        self._last_save = 0.0
        engine.subscribe(self._changed)

    def _changed(self, _event: object) -> None:
        self._dirty = True

    def maybe_save(self) -> None:
        pins = self.engine.market.pinned()
        if pins != self._pins:
            self._pins, self._dirty = pins, True
        if self._dirty and time.monotonic() - self._last_save >= self.debounce_s:
            self.save()

    def save(self) -> None:
        self._dirty = False
        self._pins = self.engine.market.pinned()
        save_file(self.engine, self.path)
        self._last_save = time.monotonic()
