"""The shipped universe: real conids only where a public source confirms them."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from ibkr_sim.universe import RESERVED_CONID_START, Universe, normalize_symbol

REQUIRED_ETFS = ("SPY", "QQQ", "IWM", "DIA", "GLD", "TLT", "XLF", "XLE")


@pytest.fixture(scope="module")
def universe() -> Universe:
    return Universe.load()


def test_aapl_has_its_real_conid(universe: Universe) -> None:
    [aapl] = universe.by_symbol("AAPL")
    assert aapl.conid == 265598
    assert aapl.conid_is_real
    assert universe.by_conid(265598) is aapl
    assert "interactivebrokers.com" in aapl.conid_source


def test_required_etfs_present_and_flagged(universe: Universe) -> None:
    for symbol in REQUIRED_ETFS:
        [inst] = universe.by_symbol(symbol)
        assert inst.is_etf, symbol
        assert inst.sec_type == "STK" and inst.asset_class == "STK"


def test_size_and_unique_conids(universe: Universe) -> None:
    conids = [i.conid for i in universe.all()]
    assert len(conids) >= 500
    assert len(set(conids)) == len(conids)
    assert sum(1 for i in universe.all() if i.sp500) >= 500


def test_unconfirmed_conids_are_in_reserved_range(universe: Universe) -> None:
    for inst in universe.all():
        if inst.conid_source.startswith("simulated"):
            assert inst.conid >= RESERVED_CONID_START, inst
        else:
            assert inst.conid < RESERVED_CONID_START, inst
            assert inst.conid_source.strip(), inst
    for symbol in ("BNY", "DECK", "SMCI", "MCD", "XOM"):  # unconfirmed or conflicting
        [inst] = universe.by_symbol(symbol)
        assert inst.conid >= RESERVED_CONID_START


def test_ibkr_spelling_and_lookup_aliases(universe: Universe) -> None:
    [brk] = universe.by_symbol("BRK B")
    assert brk.symbol == "BRK B"
    assert universe.by_symbol("brk.b") == [brk]
    assert universe.by_symbol("BRK/B") == [brk]
    assert universe.by_symbol("NOPE_NOT_A_SYMBOL") == []
    assert normalize_symbol(" bf.b ") == "BF B"


def test_search_puts_exact_symbol_first_and_matches_names(universe: Universe) -> None:
    results = universe.search("aapl")
    assert results[0].symbol == "AAPL"
    assert any(i.symbol == "AAPL" for i in universe.search("Apple"))
    assert universe.search("   ") == []


def test_every_row_is_well_formed(universe: Universe) -> None:
    for inst in universe.all():
        assert inst.base_price > 0
        assert inst.base_price == inst.base_price.quantize(inst.tick)
        assert inst.listing_exchange in {"NASDAQ", "NYSE", "ARCA", "BATS", "AMEX"}, inst
        assert inst.currency == "USD"


@pytest.mark.shared
def test_real_conids_match_a_non_conflicting_source_row(
    universe: Universe, shared_dir: Path
) -> None:
    path = shared_dir / "ibkr" / "conids.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent; nothing to compare against")
    with path.open(newline="", encoding="utf-8") as fh:
        confirmed = {
            (row["symbol"], int(row["conid"]))
            for row in csv.DictReader(fh)
            if not row["source"].startswith("CONFLICTING")
        }
    real = [i for i in universe.all() if i.conid_is_real]
    assert real, "expected some confirmed conids"
    for inst in real:
        assert (inst.symbol, inst.conid) in confirmed, inst


@pytest.mark.shared
def test_shipped_file_is_what_the_build_script_produces(shared_dir: Path, tmp_path: Path) -> None:
    conids, sp500 = shared_dir / "ibkr" / "conids.csv", shared_dir / "ibkr" / "sp500.csv"
    if not (conids.is_file() and sp500.is_file()):
        pytest.skip("conids.csv/sp500.csv are absent; cannot rebuild the universe")
    script = Path(__file__).resolve().parents[4] / "scripts" / "build_universe.py"
    out = tmp_path / "universe.csv"
    subprocess.run(
        [sys.executable, str(script), "--conids", str(conids), "--sp500", str(sp500),
         "--out", str(out)],
        check=True,
        capture_output=True,
    )
    shipped = Path(__file__).resolve().parents[4] / "src" / "ibkr_sim" / "data" / "universe.csv"
    assert out.read_text("utf-8") == shipped.read_text("utf-8")
