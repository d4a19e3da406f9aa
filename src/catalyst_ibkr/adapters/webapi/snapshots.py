"""Market-data snapshots with IBKR's pre-flight handled by polling to a deadline.

Why polling: the first ``/iserver/marketdata/snapshot`` for a conid only opens a stream and
answers with no values; later requests return what has arrived so far, and some fields come
later than others. Asking exactly twice (what most clients do) still returns blanks. So we
ask for up to 100 conids per request, keep every field seen, and ask again (paced by the
governor) only for the conids still missing a requested field, until all are complete or
the deadline passes. Then ``SnapshotIncomplete`` names what is missing per symbol, with the
partial results attached, so a caller can still show what it has.

A conid the account has no market-data permission for answers ``"31": "N/A"`` without an
availability code; waiting for it is pointless, so it is reported as unavailable at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from catalyst_ibkr.ports.broker import BrokerError

from .endpoints import MAX_SNAPSHOT_CONIDS, WebApiClient
from .pacing import Clock
from .parse import FIELD_AVAILABILITY, FIELD_LAST, QUOTE_FIELDS, SnapshotQuote, snapshot_quote
from .wire import SnapshotRow

__all__ = ["SnapshotIncomplete", "SnapshotPoller", "SnapshotSettings"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SnapshotSettings:
    """Real seconds (the governor already spaces requests at IBKR's pace)."""

    deadline_s: float = 10.0
    poll_interval_s: float = 0.2


class SnapshotIncomplete(BrokerError):
    """Some requested fields never arrived before the deadline."""

    def __init__(
        self,
        missing: dict[int, list[str]],
        unavailable: Sequence[int],
        partial: dict[int, SnapshotQuote],
    ) -> None:
        self.missing = missing
        self.unavailable = tuple(unavailable)
        self.partial = partial
        parts = [f"conid {c}: no {', '.join(fields)}" for c, fields in sorted(missing.items())]
        if self.unavailable:
            parts.append(
                "no market-data permission for conid " + ", ".join(str(c) for c in self.unavailable)
            )
        super().__init__("market data incomplete: " + "; ".join(parts))


def _no_permission(row: SnapshotRow) -> bool:
    fields = row.fields
    return FIELD_AVAILABILITY not in fields and str(fields.get(FIELD_LAST, "")).strip() == "N/A"


class SnapshotPoller:
    """Collects complete snapshots for many conids."""

    def __init__(
        self, client: WebApiClient, clock: Clock, settings: SnapshotSettings | None = None
    ) -> None:
        self._client = client
        self._clock = clock
        self.settings = settings or SnapshotSettings()

    async def collect(
        self,
        conids: Sequence[int],
        fields: Sequence[str] = QUOTE_FIELDS,
        *,
        progress: Progress | None = None,
        deadline_s: float | None = None,
    ) -> dict[int, SnapshotQuote]:
        """Every conid with every field, or ``SnapshotIncomplete`` at the deadline."""
        wanted = list(dict.fromkeys(int(c) for c in conids))
        deadline = self._clock.time() + (
            self.settings.deadline_s if deadline_s is None else deadline_s
        )
        done: dict[int, SnapshotQuote] = {}
        latest: dict[int, SnapshotQuote] = {}
        unavailable: list[int] = []
        pending = list(wanted)
        while True:
            for start in range(0, len(pending), MAX_SNAPSHOT_CONIDS):
                chunk = pending[start : start + MAX_SNAPSHOT_CONIDS]
                for row in await self._client.snapshot(chunk, fields):
                    if row.conid not in chunk:
                        continue
                    quote = snapshot_quote(row)
                    latest[row.conid] = quote
                    if not quote.missing(fields):
                        done[row.conid] = quote
                    elif _no_permission(row) and row.conid not in unavailable:
                        unavailable.append(row.conid)
                if progress is not None:
                    progress(len(done) + len(unavailable), len(wanted))
            pending = [c for c in wanted if c not in done and c not in unavailable]
            if not pending and not unavailable:
                return done
            if not pending or self._clock.time() >= deadline:
                missing = {
                    c: (latest[c].missing(fields) if c in latest else list(fields)) for c in pending
                }
                raise SnapshotIncomplete(missing, unavailable, {**latest, **done})
            await self._clock.sleep(self.settings.poll_interval_s)
