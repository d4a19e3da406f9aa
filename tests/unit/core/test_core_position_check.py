"""Our positions vs the broker's: quantity differences always, basis beyond a tolerance."""

from __future__ import annotations

from decimal import Decimal

from core_builders import CONID, fill

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.ids import ConId
from catalyst_ibkr.core.position_check import BrokerPosition, MismatchKind, compare_positions
from catalyst_ibkr.core.positions import PositionBook

OTHER = ConId(756733)


def book() -> PositionBook:
    positions = PositionBook()
    positions.apply_fills([fill("a", 100, "100", commission="1"), fill("b", 5, "20", conid=OTHER)])
    return positions


def test_matching_books_have_no_differences() -> None:
    broker = [
        BrokerPosition(CONID, Decimal(100), Decimal("100.01")),
        BrokerPosition(OTHER, Decimal(5)),
    ]
    assert compare_positions(book(), broker) == ()


def test_quantity_differences_come_first_and_missing_lines_read_as_zero() -> None:
    broker = [BrokerPosition(CONID, Decimal(100), Decimal("101")), BrokerPosition(ConId(9), 3)]
    found = compare_positions(book(), broker)  # OTHER missing at the broker, 9 missing here
    assert [(m.conid, m.kind) for m in found] == [
        (ConId(9), MismatchKind.QUANTITY),
        (OTHER, MismatchKind.QUANTITY),
        (CONID, MismatchKind.AVG_COST),
    ]
    assert found[1].ours == 5 and found[1].broker == 0
    assert "quantity ours 5 vs IBKR 0" in str(found[1])


def test_flat_positions_and_small_basis_differences_are_fine() -> None:
    positions = book()
    positions.apply_fill(fill("c", 5, "21", side=Side.SELL, conid=OTHER))
    broker = [BrokerPosition(CONID, Decimal(100), Decimal("100.015"))]
    assert compare_positions(positions, broker) == ()
    assert compare_positions(positions, broker, avg_cost_tolerance=Decimal("0.001")) != ()
