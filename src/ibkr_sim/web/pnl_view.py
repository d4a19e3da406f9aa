"""The P&L partition behind ``/iserver/account/pnl/partitioned`` (cpapi.md §3.6) and ``spl``.

One function computes it so the REST answer and the websocket's ``spl`` frames can never
disagree, and both agree with the account summary, ledger and positions because
all of them read the same engine ``AccountState`` at the same sim instant.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ibkr_sim.state import SimState

__all__ = ["pnl_partitions"]

_CENT = Decimal("0.01")


def _money(value: Decimal) -> float:
    """IBKR sends these as JSON numbers; cents are all the precision they carry."""
    return float(value.quantize(_CENT))


def pnl_partitions(state: SimState) -> dict[str, Any]:
    """``{"DU1234567.Core": {...}}``.

    ``dpl`` daily P&L (net liquidation now minus at the start of the New York day, so it
    includes realized P&L and commissions), ``nl`` net liquidation, ``upl`` unrealized P&L,
    ``el`` excess liquidity, ``mv`` signed market value of the positions.  ``uel`` is sent
    equal to ``el``: its exact meaning is not documented.
    """
    acct = state.engine.account(state.account_id)
    market_value = sum(
        (p.market_value for p in state.engine.positions(state.account_id)), Decimal(0)
    )
    return {
        f"{state.account_id}.Core": {
            "rowType": 1,
            "dpl": _money(acct.daily_pnl),
            "nl": _money(acct.net_liquidation),
            "upl": _money(acct.unrealized_pnl),
            "uel": _money(acct.excess_liquidity),
            "el": _money(acct.excess_liquidity),
            "mv": _money(market_value),
        }
    }
