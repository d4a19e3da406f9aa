#!/usr/bin/env python3
"""Build the simulator's shipped universe, ``src/ibkr_sim/data/universe.csv``.

Inputs (the team's reference data; the product never reads them at runtime):
- ``conids.csv`` (``../shared/ibkr/conids.csv``): symbol/conid pairs seen in stored public
  sources, one ``source`` column citing every supporting file. Rows whose source starts with
  ``CONFLICTING:`` disagree with another row for the same symbol.
- ``sp500.csv`` (``../shared/ibkr/sp500.csv``): the S&P 500 constituents (Wikipedia via
  datasets/s-and-p-500-companies), with sector.

Rules, chosen so a simulated conid can never name a real instrument by accident:
- A symbol gets its real IBKR conid only from a non-conflicting row; ``conid_source`` cites
  that row's sources.
- Every other symbol (conflicting rows, S&P members no source covers) gets a conid from the
  reserved range starting at 2,000,000,000, assigned in symbol order, and
  ``conid_source`` says ``simulated``.
- Symbols keep IBKR's spelling (``BRK B``; sp500.csv's ``BRK.B`` is converted).
- ``listing_exchange`` comes from the source; where it has none, a plausible one is derived
  (ETFs: ARCA; stocks: NASDAQ for 4+ letter tickers, NYSE otherwise, the historical ticker
  length convention) and ``listing_exchange_assumed`` is 1.
- ``base_price`` is a deterministic function of the symbol (log-uniform 15..450 USD from a
  SHA-256 hash), NOT a real price: the simulator's market starts every instrument there.

Usage: ``python scripts/build_universe.py [--conids PATH] [--sp500 PATH] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared" / "ibkr"
DEFAULT_OUT = REPO / "src" / "ibkr_sim" / "data" / "universe.csv"
RESERVED_CONID_START = 2_000_000_000
REQUIRED_ETFS = ("SPY", "QQQ", "IWM", "DIA", "GLD", "TLT", "XLF", "XLE")
COLUMNS = (
    "conid",
    "symbol",
    "name",
    "is_etf",
    "listing_exchange",
    "listing_exchange_assumed",
    "currency",
    "base_price",
    "sector",
    "sp500",
    "conid_source",
)
SIMULATED_SOURCE = "simulated: reserved range >= 2000000000 (no confirmed public source)"
CONFLICT_PREFIX = "CONFLICTING:"


@dataclass
class Row:
    symbol: str
    name: str
    is_etf: bool
    exchange: str
    real_conid: int | None
    source: str
    sector: str
    sp500: bool
    conflicting: bool = False


def ibkr_symbol(symbol: str) -> str:
    """IBKR writes share classes with a space ("BRK B"), sp500.csv with a dot ("BRK.B")."""
    return symbol.strip().replace(".", " ")


def base_price(symbol: str) -> Decimal:
    digest = hashlib.sha256(symbol.encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    price = math.exp(math.log(15) + fraction * (math.log(450) - math.log(15)))
    return Decimal(f"{price:.2f}")


def assumed_exchange(symbol: str, is_etf: bool) -> str:
    if is_etf:
        return "ARCA"
    return "NASDAQ" if len(symbol.replace(" ", "")) >= 4 else "NYSE"


def read_sp500(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))


def build(conids_path: Path, sp500_path: Path) -> list[dict[str, str]]:
    rows: dict[str, Row] = {}
    with conids_path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            symbol = ibkr_symbol(rec["symbol"])
            conflicting = rec["source"].startswith(CONFLICT_PREFIX)
            if symbol in rows:
                # A second row for a symbol only ever comes from a conflict; keep it simulated.
                rows[symbol].conflicting = True
                rows[symbol].real_conid = None
                continue
            rows[symbol] = Row(
                symbol=symbol,
                name=rec["company_name"].strip(),
                is_etf=rec["sec_type"] == "ETF",
                exchange=rec["primary_exchange"].strip(),
                real_conid=None if conflicting else int(rec["conid"]),
                source=rec["source"].strip(),
                sector="",
                sp500=False,
                conflicting=conflicting,
            )
    for rec in read_sp500(sp500_path):
        symbol = ibkr_symbol(rec["symbol"])
        row = rows.get(symbol)
        if row is None:
            row = rows[symbol] = Row(symbol, "", False, "", None, "", "", True)
        row.name = rec["company_name"].strip() or row.name
        row.sector = rec["sector"].strip()
        row.sp500 = True

    next_reserved = RESERVED_CONID_START
    out: list[dict[str, str]] = []
    for symbol in sorted(rows):
        row = rows[symbol]
        if row.real_conid is not None:
            conid, source = row.real_conid, row.source
        else:
            conid, source = next_reserved, SIMULATED_SOURCE
            next_reserved += 1
        exchange = row.exchange or assumed_exchange(symbol, row.is_etf)
        out.append(
            {
                "conid": str(conid),
                "symbol": symbol,
                "name": row.name or symbol,
                "is_etf": "1" if row.is_etf else "0",
                "listing_exchange": exchange,
                "listing_exchange_assumed": "0" if row.exchange else "1",
                "currency": "USD",
                "base_price": str(base_price(symbol)),
                "sector": row.sector,
                "sp500": "1" if row.sp500 else "0",
                "conid_source": source,
            }
        )
    check(out)
    return out


def check(out: list[dict[str, str]]) -> None:
    by_symbol = {r["symbol"]: r for r in out}
    problems = []
    if by_symbol.get("AAPL", {}).get("conid") != "265598":
        problems.append("AAPL must be 265598")
    problems += [f"missing ETF {s}" for s in REQUIRED_ETFS if s not in by_symbol]
    conids = [r["conid"] for r in out]
    if len(set(conids)) != len(conids):
        problems.append("conids are not unique")
    if len(out) < 500:
        problems.append(f"only {len(out)} rows")
    if problems:
        raise SystemExit("universe check failed: " + "; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conids", type=Path, default=DEFAULT_SHARED / "conids.csv")
    parser.add_argument("--sp500", type=Path, default=DEFAULT_SHARED / "sp500.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    out = build(args.conids, args.sp500)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        fh.write(
            "# ibkr_sim universe, generated by scripts/build_universe.py from the team's "
            "conids.csv and sp500.csv. Real conids only where conid_source cites a public "
            "source; simulated conids are >= 2000000000. base_price is synthetic.\n"
        )
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    real = sum(1 for r in out if int(r["conid"]) < RESERVED_CONID_START)
    print(f"wrote {len(out)} instruments ({real} real conids) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
