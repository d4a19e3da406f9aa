"""Preconditions routes share: portal session, brokerage session, the /accounts warm-up."""

from __future__ import annotations

from ibkr_sim.state import BrokerageMemory, SimState
from ibkr_sim.web.errors import ApiError, not_authenticated

__all__ = ["need_account", "need_brokerage", "need_portal", "need_warm"]


def need_portal(state: SimState) -> None:
    """Any API call needs the portal (SSO) session."""
    if not state.session.portal:
        raise not_authenticated()


def need_brokerage(state: SimState) -> BrokerageMemory:
    """``/iserver/*`` needs an authenticated brokerage session (401 otherwise)."""
    if not state.session.brokerage_ok:
        raise not_authenticated()
    return state.memory()


def need_warm(state: SimState) -> BrokerageMemory:
    """Orders and market data need ``/iserver/accounts`` first in this brokerage session."""
    memory = need_brokerage(state)
    if not memory.accounts_warmed:
        raise ApiError(400, "Please query /accounts first")
    return memory


def need_account(state: SimState, account: str) -> None:
    if account != state.account_id:
        raise ApiError(400, f"Account {account} is not valid for this session")
