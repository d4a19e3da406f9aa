"""Turn a validated :class:`Signal` into the order(s) to send, on the instrument's grid.

Why a separate step: the signal records what was asked; the order records what we will send.
Between the two sit the only changes we allow ourselves: the limit price rounded the
conservative way, the quantity rounded down to whole lots, a stop price refused if off the
tick (``money.py``), and the deterministic cOIDs that make a resend harmless.

A signal with ``take_profit`` / ``stop_loss`` becomes a bracket: the parent plus a limit and a
stop on the opposite side for the same quantity, each with its own cOID (legs ``tp``/``sl``)
and ``parent_id`` pointing at the parent's cOID. How they are linked at IBKR (``parentId``,
OCA group, transmit flags) is the adapter's job.
"""

from __future__ import annotations

from catalyst_ibkr.core.enums import OrderType
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.core.ids import AccountId, ClientOrderId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.orders import Order
from catalyst_ibkr.core.signals import Signal

__all__ = ["order_from_signal", "orders_from_signal"]


def order_from_signal(
    signal: Signal, instrument: Instrument, *, account: AccountId | None = None
) -> Order:
    """The parent (or only) order for ``signal`` on ``instrument``."""
    if signal.conid is not None and signal.conid != instrument.conid:
        raise InvalidInput(
            "conid", f"{signal.conid} does not match {instrument.symbol} ({instrument.conid})"
        )
    if signal.symbol != instrument.symbol:
        raise InvalidInput("symbol", f"{signal.symbol} does not match {instrument.symbol}")
    limit, stop = signal.limit_price, signal.stop_price
    return Order(
        client_order_id=signal.client_order_id,
        signal_id=signal.id,
        conid=instrument.conid,
        symbol=instrument.symbol,
        side=signal.side,
        quantity=instrument.round_quantity(signal.quantity),
        order_type=signal.order_type,
        created_at=signal.received_at,
        limit_price=None if limit is None else instrument.round_limit_price(limit, signal.side),
        stop_price=None if stop is None else instrument.check_stop_price(stop),
        tif=signal.tif,
        outside_rth=signal.outside_rth,
        strategy=signal.strategy,
        account=account,
    )


def orders_from_signal(
    signal: Signal, instrument: Instrument, *, account: AccountId | None = None
) -> tuple[Order, ...]:
    """The parent first, then the bracket children the signal asks for (tp, then sl)."""
    parent = order_from_signal(signal, instrument, account=account)
    exit_side = signal.side.opposite
    children: list[Order] = []
    for leg, price, order_type in (
        ("tp", signal.take_profit, OrderType.LMT),
        ("sl", signal.stop_loss, OrderType.STP),
    ):
        if price is None:
            continue
        field = "take_profit" if leg == "tp" else "stop_loss"
        try:
            limit = instrument.round_limit_price(price, exit_side) if leg == "tp" else None
            stop = instrument.check_stop_price(price) if leg == "sl" else None
        except InvalidInput as exc:
            raise InvalidInput(field, exc.issues[0].problem) from None
        children.append(
            Order(
                client_order_id=ClientOrderId.for_signal(signal.id, leg),
                signal_id=signal.id,
                conid=parent.conid,
                symbol=parent.symbol,
                side=exit_side,
                quantity=parent.quantity,
                order_type=order_type,
                created_at=signal.received_at,
                limit_price=limit,
                stop_price=stop,
                tif=signal.tif,
                outside_rth=signal.outside_rth,
                strategy=signal.strategy,
                account=account,
                parent_id=parent.client_order_id,
            )
        )
    return (parent, *children)
