"""Positions and P&L from fills, checked against an independent exact reference model.

The reference uses ``fractions.Fraction`` (exact) and the textbook running-average formula,
so it shares neither arithmetic nor structure with ``positions.py`` (which keeps a signed total
cost and Decimal arithmetic). Commission allocation is checked through identities that any
correct allocation must satisfy: total P&L equals the cash-flow P&L, and the commission in the
cost basis is exactly the gap between ``avg_cost`` and ``avg_price``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from core_builders import CONID, fill
from hypothesis import given
from hypothesis import strategies as st

from catalyst_ibkr.core.enums import Side
from catalyst_ibkr.core.errors import FillMismatch
from catalyst_ibkr.core.fills import Fill
from catalyst_ibkr.core.ids import ConId, ExecutionId
from catalyst_ibkr.core.positions import Position, PositionBook

TOL = Decimal("1e-9")


def close(a: Decimal | Fraction, b: Decimal | Fraction) -> bool:
    return abs(Fraction(a) - Fraction(b)) <= Fraction(TOL)


@dataclass
class Reference:
    """Running average cost, exact. Realized P&L here is gross (before commissions)."""

    multiplier: Fraction
    qty: Fraction = Fraction(0)
    avg: Fraction = Fraction(0)
    realized_gross: Fraction = Fraction(0)
    cash: Fraction = Fraction(0)  # money in (+) / out (-), commissions included

    def apply(self, signed: Fraction, price: Fraction, commission: Fraction) -> None:
        self.cash -= signed * price * self.multiplier + commission
        if self.qty == 0 or (self.qty > 0) == (signed > 0):
            total = abs(self.qty) + abs(signed)
            self.avg = (self.avg * abs(self.qty) + price * abs(signed)) / total
            self.qty += signed
            return
        direction = 1 if self.qty > 0 else -1
        closed = min(abs(signed), abs(self.qty))
        self.realized_gross += (price - self.avg) * closed * direction * self.multiplier
        self.qty -= direction * closed
        rest = abs(signed) - closed
        if rest:
            self.qty = rest if signed > 0 else -rest
            self.avg = price
        elif self.qty == 0:
            self.avg = Fraction(0)


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from(Side),
        st.integers(1, 500),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2),
        st.one_of(st.none(), st.decimals(min_value=Decimal(0), max_value=Decimal(20), places=4)),
    ),
    min_size=1,
    max_size=30,
)
marks = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
multipliers = st.sampled_from([Decimal(1), Decimal(100), Decimal("0.1")])


def build(spec: list[tuple[Side, int, Decimal, Decimal | None]], prefix: str = "x") -> list[Fill]:
    return [
        fill(f"{prefix}{i}", qty, price, side=side, commission=None if c is None else str(c))
        for i, (side, qty, price, c) in enumerate(spec)
    ]


@given(fills_strategy, marks, multipliers)
def test_position_matches_the_reference_model(
    spec: list[tuple[Side, int, Decimal, Decimal | None]], mark: Decimal, multiplier: Decimal
) -> None:
    position = Position(CONID, multiplier)
    ref = Reference(Fraction(multiplier))
    for f in build(spec):
        assert position.apply_fill(f)
        ref.apply(Fraction(f.signed_quantity), Fraction(f.price), Fraction(f.commission or 0))

    assert position.quantity == ref.qty
    if ref.qty == 0:
        assert position.avg_price is None and position.avg_cost is None
        assert position.cost == 0 and position.open_commission == 0
    else:
        assert position.avg_price is not None and close(position.avg_price, ref.avg)
        assert position.avg_cost is not None
        gap = (position.avg_cost - position.avg_price) * position.quantity * multiplier
        assert close(gap, position.open_commission)  # basis commission is in avg_cost only
    paid = sum((f.commission or Decimal(0) for f in build(spec)), Decimal(0))
    assert position.total_commission == paid
    assert Decimal(0) <= position.open_commission <= paid + TOL
    # realized is net of every commission not still sitting in the cost basis
    net_in_realized = position.total_commission - position.open_commission
    assert close(position.realized_pnl + net_in_realized, ref.realized_gross)
    # total P&L is the cash-flow P&L, whatever the commission allocation
    cash_pnl = ref.cash + ref.qty * Fraction(mark) * ref.multiplier
    assert close(position.total_pnl(mark), cash_pnl)


@given(fills_strategy)
def test_replaying_every_fill_changes_nothing(
    spec: list[tuple[Side, int, Decimal, Decimal | None]],
) -> None:
    position = Position(CONID)
    fills = build(spec)
    for f in fills:
        position.apply_fill(f)
    before = (position.quantity, position.cost, position.realized_pnl, position.open_commission)
    assert not any(position.apply_fill(f) for f in fills)
    assert (position.quantity, position.cost, position.realized_pnl, position.open_commission) == (
        before
    )


@given(fills_strategy, st.integers(1, 99), marks)
def test_splitting_fills_into_partials_gives_the_same_position(
    spec: list[tuple[Side, int, Decimal, Decimal | None]], percent: int, mark: Decimal
) -> None:
    whole, parts = Position(CONID), Position(CONID)
    for i, f in enumerate(build(spec)):
        whole.apply_fill(f)
        first = (f.quantity * percent / 100).to_integral_value() or Decimal(1)
        second = f.quantity - first
        parts.apply_fill(
            Fill(ExecutionId(f"p{i}a"), f.conid, f.side, first, f.price, f.time, f.commission)
        )
        if second > 0:
            parts.apply_fill(
                Fill(ExecutionId(f"p{i}b"), f.conid, f.side, second, f.price, f.time, Decimal(0))
            )
    assert parts.quantity == whole.quantity
    assert close(parts.cost, whole.cost)
    assert close(parts.total_pnl(mark), whole.total_pnl(mark))


def test_buy_commission_goes_into_avg_cost_like_ibkr() -> None:
    position = Position(CONID)
    position.apply_fill(fill("b1", 100, "100", commission="1.00"))
    assert position.avg_price == Decimal(100)
    assert position.avg_cost == Decimal("100.01")
    assert position.unrealized_pnl(Decimal(100)) == Decimal(-1)
    assert position.realized_pnl == 0


def test_closing_realizes_both_commissions() -> None:
    position = Position(CONID)
    position.apply_fill(fill("b1", 100, "100", commission="1.00"))
    position.apply_fill(fill("s1", 100, "110", side=Side.SELL, commission="1.00"))
    assert position.is_flat
    assert position.realized_pnl == Decimal(998)
    assert position.open_commission == 0


def test_flip_long_to_short_splits_the_commission() -> None:
    position = Position(CONID)
    position.apply_fill(fill("b1", 100, "100", commission="1"))
    position.apply_fill(fill("s1", 150, "110", side=Side.SELL, commission="3"))
    assert position.quantity == Decimal(-50)
    assert position.avg_price == Decimal(110)
    assert position.realized_pnl == Decimal(997)  # 1000 - 1 (open) - 2 (closing share of 3)
    assert position.open_commission == Decimal(1)  # the opening share of 3
    assert position.avg_cost == Decimal("109.98")  # a short's basis is lowered, as at IBKR


def test_partial_close_keeps_the_average() -> None:
    position = Position(CONID)
    position.apply_fill(fill("b1", 10, "100"))
    position.apply_fill(fill("b2", 30, "104"))
    assert position.avg_price == Decimal(103)
    position.apply_fill(fill("s1", 20, "110", side=Side.SELL))
    assert position.quantity == 20 and position.avg_price == Decimal(103)
    assert position.realized_pnl == Decimal(140)
    assert position.unrealized_pnl(Decimal(100)) == Decimal(-60)


def test_short_profit_when_price_falls() -> None:
    position = Position(CONID)
    position.apply_fill(fill("s1", 10, "50", side=Side.SELL))
    assert position.unrealized_pnl(Decimal(45)) == Decimal(50)
    position.apply_fill(fill("b1", 10, "45"))
    assert position.realized_pnl == Decimal(50) and position.is_flat


def test_multiplier_scales_pnl_and_market_value() -> None:
    position = Position(CONID, Decimal(100))
    position.apply_fill(fill("b1", 2, "3.50", commission="1.30"))
    assert position.market_value(Decimal(4)) == Decimal(800)
    assert position.unrealized_pnl(Decimal(4)) == Decimal("98.70")
    assert position.avg_cost == Decimal("3.5065")  # IBKR shows 350.65 per contract


def test_late_commission_is_booked_once_into_realized() -> None:
    position = Position(CONID)
    position.apply_fill(fill("b1", 10, "100"))
    assert position.apply_commission(ExecutionId("b1"), Decimal("1.5"))
    assert position.realized_pnl == Decimal("-1.5") and position.total_commission == Decimal("1.5")
    assert not position.apply_commission(ExecutionId("b1"), Decimal("1.5"))
    assert not position.apply_fill(fill("b1", 10, "100", commission="1.5"))
    assert position.total_commission == Decimal("1.5")


def test_replay_carrying_the_commission_books_only_the_commission() -> None:
    position = Position(CONID)
    position.apply_fill(fill("b1", 10, "100"))
    assert position.apply_fill(fill("b1", 10, "100", commission="2"))
    assert position.quantity == 10 and position.total_commission == 2


def test_mismatched_inputs_are_refused() -> None:
    position = Position(CONID)
    with pytest.raises(FillMismatch):
        position.apply_fill(fill("z", 1, conid=ConId(1)))
    with pytest.raises(FillMismatch):
        position.apply_commission(ExecutionId("never-seen"), Decimal(1))


def test_position_book_routes_fills_and_sums() -> None:
    other = ConId(756733)
    book = PositionBook({other: Decimal(10)})
    assert (
        book.apply_fills(
            [fill("a", 10, "100"), fill("b", 5, "20", conid=other), fill("a", 10, "100")]
        )
        == 2
    )
    assert book.quantity(CONID) == 10 and book.quantity(ConId(1)) == 0
    marks = {CONID: Decimal(101), other: Decimal(19)}
    assert book.unrealized_pnl(marks) == Decimal(10) + Decimal(-50)
    assert book.gross_exposure(marks) == Decimal(1010) + Decimal(950)
    book.apply_fill(fill("c", 10, "102", side=Side.SELL))
    assert book.realized_pnl == Decimal(20)
    assert book.unrealized_pnl({other: Decimal(19)}) == Decimal(-50)  # flat ones need no mark
    position = book.get(CONID)
    assert position is not None and position.is_flat
    assert len(book.positions) == 2
