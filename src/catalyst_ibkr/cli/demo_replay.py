"""Replaying a trading morning (examples/signals.csv) through the service's HTTP API.

Rows are `quote` (pin a quote in the simulator), `signal` (POST /v1/signals), `state`
(POST /v1/risk/state with the admin key) and `cancel_all`. Before a quote, a state change
or cancel-all, the replay waits until the signals sent so far are settled, so the story is
the same on every run: a signal sent before a HALT is decided before the HALT lands.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from catalyst_ibkr.core.signals import SIGNAL_FIELDS

__all__ = [
    "UNSETTLED",
    "DemoRow",
    "ReplayResult",
    "read_rows",
    "replay",
    "wait_settled",
]

#: Signal states that still wait for the OMS or the broker to decide.
UNSETTLED = frozenset({"RECEIVED", "PENDING_SUBMIT", "IN_DOUBT"})
KINDS = ("quote", "signal", "state", "cancel_all")


class ReplayError(Exception):
    """The CSV or the service did not behave as the demo needs (message says which row)."""


@dataclass(frozen=True)
class DemoRow:
    line: int
    at: str
    kind: str
    fields: dict[str, str]
    note: str

    def signal_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {k: v for k, v in self.fields.items() if k in SIGNAL_FIELDS and v}
        return body

    def describe(self) -> str:
        f = self.fields
        if self.kind == "signal":
            price = f.get("limit_price") or f.get("stop_price") or ""
            return f"{f.get('id')} {f.get('side')} {f.get('quantity')} {f.get('symbol')} " \
                   f"{f.get('order_type')} {price}".rstrip()
        if self.kind == "quote":
            return f"quote {f.get('symbol')} {f.get('bid')}/{f.get('ask')}"
        if self.kind == "state":
            return f"trading state -> {f.get('state')}"
        return "cancel all working orders"


@dataclass
class ReplayResult:
    """What happened at intake, per signal id (in CSV order)."""

    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    known_before: set[str] = field(default_factory=set)
    refused: list[tuple[DemoRow, dict[str, Any]]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    commands: list[tuple[DemoRow, int, dict[str, Any]]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)


def read_rows(path: Path) -> list[DemoRow]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = []
            for number, raw in enumerate(reader, start=2):
                kind = (raw.get("kind") or "").strip()
                if kind not in KINDS:
                    raise ReplayError(f"{path}:{number}: kind must be one of {', '.join(KINDS)}")
                fields = {k: (v or "").strip() for k, v in raw.items() if k is not None}
                rows.append(DemoRow(number, fields.get("at", ""), kind, fields,
                                    fields.get("note", "")))
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror}") from None
    return rows


async def _status(client: httpx.AsyncClient, signal_id: str) -> str | None:
    response = await client.get(f"/v1/signals/{signal_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    status: str = response.json()["status"]
    return status


async def wait_settled(client: httpx.AsyncClient, ids: list[str], *, timeout_s: float) -> list[str]:
    """Wait until every id has left RECEIVED / PENDING_SUBMIT / IN_DOUBT; the unsettled ones."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pending = list(dict.fromkeys(ids))
    while pending:
        statuses = await asyncio.gather(*(_status(client, i) for i in pending))
        pending = [i for i, s in zip(pending, statuses, strict=True) if s in UNSETTLED]
        if not pending or loop.time() >= deadline:
            break
        await asyncio.sleep(0.1)
    return pending


async def replay(
    rows: list[DemoRow],
    client: httpx.AsyncClient,
    sim: httpx.AsyncClient,
    admin_headers: dict[str, str],
    *,
    settle_s: float,
    on_row: Callable[[DemoRow], None],
    pause_s: float = 0.02,
) -> ReplayResult:
    result = ReplayResult()
    for row in rows:
        if row.kind == "signal" and row.fields.get("id"):
            sid = row.fields["id"]
            if sid not in result.answers and await _status(client, sid) is not None:
                result.known_before.add(sid)
    for row in rows:
        on_row(row)
        if row.kind in ("quote", "state", "cancel_all"):
            await wait_settled(client, result.sent, timeout_s=settle_s)
        if row.kind == "quote":
            body = {"symbol": row.fields["symbol"], "bid": row.fields["bid"],
                    "ask": row.fields["ask"]}
            response = await sim.post("/sim/market", json=body)
            if response.status_code != 200:
                raise ReplayError(f"line {row.line}: the simulator refused the quote: "
                                  f"{response.text[:200]}")
            await asyncio.sleep(0.3)  # let resting orders meet the new quote
        elif row.kind == "signal":
            response = await client.post("/v1/signals", json=row.signal_body())
            sid = row.fields.get("id", "")
            if row.note:
                result.notes.setdefault(sid, row.note)
            if response.status_code == 202:
                result.answers.setdefault(sid, []).append(response.json())
                result.sent.append(sid)
            elif response.status_code == 422:
                result.refused.append((row, response.json()))
            else:
                raise ReplayError(f"line {row.line}: POST /v1/signals -> HTTP "
                                  f"{response.status_code}: {response.text[:200]}")
        elif row.kind == "state":
            response = await client.post("/v1/risk/state", json={"state": row.fields["state"]},
                                         headers=admin_headers)
            result.commands.append((row, response.status_code, response.json()))
        else:
            response = await client.post("/v1/orders/cancel-all", headers=admin_headers)
            result.commands.append((row, response.status_code, response.json()))
            await asyncio.sleep(0.3)
        await asyncio.sleep(pause_s)
    return result
