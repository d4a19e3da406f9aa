"""Positions from fills (the core's PositionBook), beside what the broker reports.

Why rebuilt from the journal on demand: the executions table is the single source of what
filled; rebuilding from it means a second process, or this one after a crash, computes the
same positions with no cache to get stale. Opening positions that predate the journal are
recorded once as baselines (synthetic fills at their average cost), so "expected = baseline +
our fills" can be compared with the broker's figure and drift detected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import ConId, ExecutionId
from catalyst_ibkr.core.positions import PositionBook
from catalyst_ibkr.ports.broker import PositionReport
from catalyst_ibkr.service.journal import Journal

__all__ = ["Drift", "PositionManager"]


@dataclass(frozen=True, slots=True)
class Drift:
    conid: int
    symbol: str
    expected: Decimal
    reported: Decimal


class PositionManager:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._built: tuple[object, PositionBook, dict[int, str]] | None = None

    def book(self) -> tuple[PositionBook, dict[int, str]]:
        """The position book and a conid -> symbol map, shared between calls: read it, never
        change it.

        Why shared: every risk decision needs the book, and rebuilding it replayed every
        fill the journal has ever recorded, so a decision cost more with every day of
        history. It is rebuilt from the journal (still the only source) once the fills or
        the baselines have changed, which the journal tells cheaply.
        """
        baselines = self._journal.baselines()
        key = (self._journal.fills_marker(), sorted(baselines.items()))
        if self._built is not None and self._built[0] == key:
            return self._built[1], self._built[2]
        book, symbols = self._rebuild(baselines)
        self._built = (key, book, symbols)
        return book, symbols

    def _rebuild(
        self, baselines: Mapping[int, tuple[str, Decimal, Decimal]]
    ) -> tuple[PositionBook, dict[int, str]]:
        book = PositionBook()
        symbols: dict[int, str] = {}
        for conid, (symbol, quantity, avg_cost) in baselines.items():
            symbols[conid] = symbol
            if quantity != 0 and avg_cost > 0:
                book.apply_fill(_baseline_fill(conid, quantity, avg_cost))
        for _ref, symbol, fill in self._journal.fills():
            symbols[int(fill.conid)] = symbol
            book.apply_fill(fill)
        return book, symbols

    def quantities(self) -> dict[int, Decimal]:
        book, _ = self.book()
        return {int(p.conid): p.quantity for p in book.positions}

    def ensure_baselines(self, reported: Sequence[PositionReport], now: datetime) -> bool:
        """First reconciliation of a journal: what the broker holds beyond our fills is the
        opening position. Later runs never move baselines (that would hide drift)."""
        if self._journal.baselines():
            return False
        ours: dict[int, Decimal] = {}
        for _ref, _symbol, fill in self._journal.fills():
            ours[int(fill.conid)] = ours.get(int(fill.conid), Decimal(0)) + fill.signed_quantity
        baselines: dict[int, tuple[str, Decimal, Decimal]] = {}
        for report in reported:
            opening = report.quantity - ours.get(int(report.conid), Decimal(0))
            baselines[int(report.conid)] = (report.symbol, opening, abs(report.avg_cost))
        if not baselines:
            # Record an explicit "flat" marker so later runs know the baseline was taken.
            baselines[0] = ("-", Decimal(0), Decimal(0))
        self._journal.set_baselines(baselines, now)
        return True

    def drift(self, reported: Sequence[PositionReport]) -> list[Drift]:
        expected = self.quantities()
        by_conid: Mapping[int, PositionReport] = {int(r.conid): r for r in reported}
        _, symbols = self.book()
        out: list[Drift] = []
        for conid in sorted(set(expected) | set(by_conid)):
            if conid == 0:
                continue
            want = expected.get(conid, Decimal(0))
            report = by_conid.get(conid)
            have = report.quantity if report is not None else Decimal(0)
            if want != have:
                symbol = report.symbol if report is not None else symbols.get(conid, "?")
                out.append(Drift(conid, symbol, want, have))
        return out


def _baseline_fill(conid: int, quantity: Decimal, avg_cost: Decimal) -> Fill:
    from datetime import UTC

    return Fill(
        execution_id=ExecutionId(f"baseline-{conid}"),
        conid=ConId(conid),
        side=Side.BUY if quantity > 0 else Side.SELL,
        quantity=abs(quantity),
        price=avg_cost,
        time=datetime(1970, 1, 1, tzinfo=UTC),
    )
