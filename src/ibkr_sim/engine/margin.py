"""Pre-trade margin check: refuse an order whose position the equity cannot carry.

Simplified Reg T (see portfolio.py): an order that grows a position needs initial margin of
50% of its value on top of what the book already uses. Orders that only reduce a position
always pass, so a client can always get out.
"""

from __future__ import annotations

from datetime import date

from ibkr_sim.engine.errors import EngineRejection
from ibkr_sim.engine.portfolio import INITIAL_MARGIN, Portfolio, PriceOf
from ibkr_sim.engine.types import OrderTicket
from ibkr_sim.market import Quote

__all__ = ["check_initial_margin"]


def check_initial_margin(
    portfolio: Portfolio, ticket: OrderTicket, quote: Quote, price_of: PriceOf, today: date
) -> None:
    held = portfolio.quantity(ticket.conid)
    signed = ticket.quantity if ticket.side == "BUY" else -ticket.quantity
    if abs(held + signed) <= abs(held):
        return
    price = max(ticket.limit_price or ticket.stop_price or quote.ask, quote.ask)
    state = portfolio.state(price_of, today)
    needed = state.init_margin + ticket.quantity * price * INITIAL_MARGIN
    if needed > state.net_liquidation:
        raise EngineRejection(
            "Your order is not accepted. In order to obtain the desired position your "
            f"Equity with Loan Value [{state.net_liquidation:.2f} USD] must exceed the "
            f"Initial Margin [{needed:.2f} USD]"
        )
