"""Read-only TWS requests: contracts, market data, account, positions, executions, time.

Split from session.py so that file keeps the connection and the order flow; these handlers
only read the engine and answer, so they are plain functions of the session.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ibkr_sim.engine import Execution, SimOrder, SimPosition
from ibkr_sim.tws import outgoing as out
from ibkr_sim.tws.incoming import BadRequest, parse_contract, parse_exec_time, resolve

if TYPE_CHECKING:
    from ibkr_sim.tws.session import TwsSession

__all__ = ["HANDLERS", "portfolio_changed"]


def contract_details(s: TwsSession, fields: list[str]) -> None:
    req_id = _int(fields[2])
    found = resolve(s.state.universe, parse_contract(fields, 3))
    if not found:
        s.send(
            out.error(
                s.version, req_id, 200, "No security definition has been found for the request"
            )
        )
        return
    for inst in found:
        s.send(out.contract_details(s.version, req_id, inst))
    s.send(out.contract_details_end(req_id))


def market_data(s: TwsSession, fields: list[str]) -> None:
    req_id = _int(fields[2])
    found = resolve(s.state.universe, parse_contract(fields, 3))
    if len(found) != 1:
        s.send(
            out.error(
                s.version, req_id, 200, "No security definition has been found for the request"
            )
        )
        return
    conid = found[0].conid
    if not s.state.entitled(conid):
        s.send(out.error(s.version, req_id, 354, "Requested market data is not subscribed."))
        return
    q = s.state.market.quote(conid)
    s.send([58, 1, req_id, 1])  # real-time data
    s.send(out.tick_price(req_id, 1, q.bid, q.bid_size))
    s.send(out.tick_price(req_id, 2, q.ask, q.ask_size))
    s.send(out.tick_price(req_id, 4, q.last, q.last_size))
    s.send(out.tick_size(req_id, 8, q.volume))
    s.send(out.tick_price(req_id, 9, q.prior_close, 0))
    snapshot = fields[17] if len(fields) > 17 else "0"
    if snapshot in ("1", "True"):
        s.send(out.tick_snapshot_end(req_id))


def current_time(s: TwsSession, fields: list[str]) -> None:
    s.send(out.current_time(s.state.clock.now()))


def req_ids(s: TwsSession, fields: list[str]) -> None:
    assert s.client_id is not None
    s.send(out.next_valid_id(s.server.next_valid_id(s.client_id)))


def managed(s: TwsSession, fields: list[str]) -> None:
    s.send(out.managed_accounts(s.engine.account_id))


def executions(s: TwsSession, fields: list[str]) -> None:
    req_id, client_filter = _int(fields[2]), _int(fields[3])
    account, since = fields[4], parse_exec_time(fields[5]) if len(fields) > 5 else None
    symbol = fields[6] if len(fields) > 6 else ""
    if account in ("", s.engine.account_id):
        for ex in s.engine.executions(s.engine.account_id, since):
            ids = s.server.ids(s.engine.order(ex.order_id) or _gone(ex))
            if client_filter and ids.client_id != client_filter:
                continue
            if symbol and symbol != ex.symbol:
                continue
            s.send_execution(req_id, ex, ids)
    s.send(out.exec_details_end(req_id))


def positions(s: TwsSession, fields: list[str]) -> None:
    s.positions_sub = True
    account = s.engine.account_id
    for pos in s.engine.positions(account):
        s.send(out.position(account, pos))
    s.send(out.position_end())


def cancel_positions(s: TwsSession, fields: list[str]) -> None:
    s.positions_sub = False


def account_updates(s: TwsSession, fields: list[str]) -> None:
    s.account_sub = fields[2] in ("1", "True")
    if s.account_sub:
        _send_account(s, download_end=True)


def _send_account(s: TwsSession, *, download_end: bool) -> None:
    account = s.engine.account_id
    for key, value in out.account_values(s.engine.account(account)):
        s.send(out.account_value(key, value, "USD", account))
    for pos in s.engine.positions(account):
        inst = s.state.universe.by_conid(pos.conid)
        s.send(out.portfolio_value(account, pos, inst.listing_exchange if inst else ""))
    s.send(out.account_time(s.state.clock.now()))
    if download_end:
        s.send(out.account_download_end(account))


def account_updates_multi(s: TwsSession, fields: list[str]) -> None:
    req_id, account, model = _int(fields[2]), fields[3], fields[4]
    if account in ("", s.engine.account_id):
        state = s.engine.account(s.engine.account_id)
        for key, value in out.account_values(state):
            s.send([73, 1, req_id, s.engine.account_id, model, key, value, "USD"])
    s.send([74, 1, req_id])


def account_summary(s: TwsSession, fields: list[str]) -> None:
    req_id = _int(fields[2])
    tags = {t for t in fields[4].split(",") if t} if len(fields) > 4 else set()
    account = s.engine.account_id
    for tag, value in out.account_values(s.engine.account(account)):
        if not tags or tag in tags:
            s.send(out.account_summary(req_id, account, tag, value, "USD"))
    s.send(out.account_summary_end(req_id))


def portfolio_changed(s: TwsSession, ex: Execution) -> None:
    """After a fill: pushed position and account updates for the subscribed sessions.
    A position the fill closed is pushed as 0, as TWS does, so clients drop it."""
    if not s.ready:
        return
    account = s.engine.account_id
    if s.positions_sub:
        held = s.engine.positions(account)
        for pos in held:
            s.send(out.position(account, pos))
        if all(p.conid != ex.conid for p in held):
            zero = Decimal(0)
            s.send(
                out.position(
                    account,
                    SimPosition(
                        conid=ex.conid,
                        symbol=ex.symbol,
                        quantity=zero,
                        avg_cost=zero,
                        realized_pnl=zero,
                        market_price=ex.price,
                        market_value=zero,
                        unrealized_pnl=zero,
                    ),
                )
            )
    if s.account_sub:
        _send_account(s, download_end=False)


def _int(text: str) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return int(float(text))


def _gone(ex: Execution) -> SimOrder:  # pragma: no cover - the engine keeps every order
    raise BadRequest(f"execution {ex.execution_id} has no order")


HANDLERS = {
    9: contract_details,
    1: market_data,
    49: current_time,
    8: req_ids,
    17: managed,
    7: executions,
    61: positions,
    64: cancel_positions,
    6: account_updates,
    76: account_updates_multi,
    62: account_summary,
}
