"""IBKR order status strings -> domain :class:`OrderStatus`, one table per API.

Why tables: each API spells the lifecycle differently (Client Portal adds ``order_ccp_status``
and snake_case filter names; ib_async adds its own local words), and a status we do not know
must never be guessed into a state. An unknown string raises :class:`UnknownBrokerStatus`; the
caller leaves the order unchanged, logs the raw value and lets reconciliation decide.

The mapped status is fed to ``Order.apply_status_report``; reports never carry fills (the
executions do), so "Filled" only proves the order lives.

Sources: Client Portal status values and the observed ``sor`` sequence (Inactive with
order_ccp_status "Pending Submit" -> PendingSubmit -> PreSubmitted -> Submitted) from
../shared/ibkr/cpapi.md §6.5-6.7; TWS values from IBKR's OrderStatus reference as listed by
ib_async (``ib_async/order.py``) and docs.rs ``ibapi::orders::OrderStatusKind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from catalyst_ibkr.core.errors import UnknownBrokerStatus
from catalyst_ibkr.core.order_fsm import OrderStatus, OrderTrigger

__all__ = [
    "CLIENT_PORTAL_CCP_STATUS",
    "CLIENT_PORTAL_STATUS",
    "TWS_STATUS",
    "map_client_portal_status",
    "map_tws_status",
    "normalize_status_word",
    "report_trigger",
]

S = OrderStatus


def normalize_status_word(raw: str) -> str:
    """``"Pending Submit"``, ``"pending_submit"`` and ``"PendingSubmit"`` are one word."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())


# Client Portal ``status`` / ``order_status`` (and the orders-list filter names), normalized.
CLIENT_PORTAL_STATUS: Mapping[str, OrderStatus] = MappingProxyType(
    {
        "pendingsubmit": S.PENDING_SUBMIT,  # at IBKR, not yet confirmed by the destination
        "presubmitted": S.SUBMITTED,  # accepted, held until trigger/session: can still fill
        "submitted": S.SUBMITTED,
        "filled": S.FILLED,
        "pendingcancel": S.PENDING_CANCEL,
        # Seen only as a filter name; treated as "cancel not yet final" so the order keeps
        # counting as exposure until a final Cancelled arrives (the safe side of every limit).
        "precancelled": S.PENDING_CANCEL,
        "cancelled": S.CANCELLED,
        "inactive": S.REJECTED,  # rejected or deactivated; see the ccp special case below
        # An order with a warning attached; IBKR keeps it. Working is the safe assumption.
        "warnstate": S.SUBMITTED,
    }
)

# Client Portal ``order_ccp_status``: words in ``sor`` / orders list, and single-character
# codes in ``/order/status`` ("2" next to order_status "Filled"). The codes match FIX tag 39
# (OrdStatus); that reading is our inference from the recorded pair, not IBKR documentation.
CLIENT_PORTAL_CCP_STATUS: Mapping[str, OrderStatus] = MappingProxyType(
    {
        "pendingsubmit": S.PENDING_SUBMIT,
        "presubmitted": S.SUBMITTED,
        "submitted": S.SUBMITTED,
        "filled": S.FILLED,
        "pendingcancel": S.PENDING_CANCEL,
        "cancelled": S.CANCELLED,
        "inactive": S.REJECTED,
        "0": S.SUBMITTED,  # New
        "1": S.PARTIALLY_FILLED,  # Partially filled
        "2": S.FILLED,  # Filled
        "4": S.CANCELLED,  # Canceled
        "6": S.PENDING_CANCEL,  # Pending cancel
        "8": S.REJECTED,  # Rejected
        "a": S.PENDING_SUBMIT,  # Pending new
        "c": S.EXPIRED,  # Expired
        "e": S.SUBMITTED,  # Pending replace: still working; the modify answer comes separately
    }
)

# TWS ``orderStatus.status`` as ib_async exposes it.
TWS_STATUS: Mapping[str, OrderStatus] = MappingProxyType(
    {
        "ApiPending": S.PENDING_SUBMIT,  # not yet sent to IB (e.g. waiting for the contract)
        "PendingSubmit": S.PENDING_SUBMIT,  # sent, no acknowledgement yet
        "PendingCancel": S.PENDING_CANCEL,  # cancel sent, not confirmed: it can still fill
        "PreSubmitted": S.SUBMITTED,  # simulated/held order accepted by IB; can still fill
        "Submitted": S.SUBMITTED,
        "ApiCancelled": S.CANCELLED,  # cancelled by us before IB acknowledged the order
        "Cancelled": S.CANCELLED,  # final; IB also uses it for unexpected rejections
        "Filled": S.FILLED,
        "Inactive": S.REJECTED,  # received but no longer active: rejected or cancelled by IB
        # ib_async's own words (never on the wire):
        "ApiUpdate": S.SUBMITTED,  # a modify was sent; the order is still live
        "ValidationError": S.SUBMITTED,  # a warning; ib_async documents the order stays live
    }
)


def map_client_portal_status(status: str | None, ccp_status: str | None = None) -> OrderStatus:
    """Map a Client Portal order's ``status`` (or ``order_status``) plus ``order_ccp_status``.

    ``status`` wins when known, except for ``Inactive`` with ccp ``Pending Submit``: that is
    the first ``sor`` frame of a brand-new order, not a rejection.
    """
    word = normalize_status_word(status) if status else ""
    ccp = normalize_status_word(ccp_status) if ccp_status else ""
    if word == "inactive" and ccp == "pendingsubmit":
        return S.PENDING_SUBMIT
    if word in CLIENT_PORTAL_STATUS:
        return CLIENT_PORTAL_STATUS[word]
    if ccp in CLIENT_PORTAL_CCP_STATUS:
        return CLIENT_PORTAL_CCP_STATUS[ccp]
    raise UnknownBrokerStatus("Client Portal", f"status={status!r} order_ccp_status={ccp_status!r}")


def map_tws_status(status: str) -> OrderStatus:
    """Map a TWS ``orderStatus`` string (exact, case-sensitive as TWS sends it)."""
    try:
        return TWS_STATUS[status]
    except KeyError:
        raise UnknownBrokerStatus("TWS", status) from None


def report_trigger(
    current: OrderStatus, filled: Decimal, reported: OrderStatus
) -> OrderTrigger | None:
    """Which lifecycle trigger a broker-reported status means for an order in ``current``.

    None when the report is no news. Reports carry no executions, so SUBMITTED,
    PARTIALLY_FILLED and FILLED all just mean "it exists at IBKR" (ACCEPT); the fills come
    with the executions.
    """
    if reported is S.PENDING_SUBMIT:
        # IBKR holds it but has not confirmed it: news only for an order we were unsure of.
        return OrderTrigger.ACCEPT if current is S.IN_DOUBT else None
    if reported in (S.SUBMITTED, S.PARTIALLY_FILLED, S.FILLED):
        return OrderTrigger.ACCEPT
    if reported is S.PENDING_CANCEL:
        if current in (S.SUBMITTED, S.PARTIALLY_FILLED, S.PENDING_MODIFY, S.PENDING_CANCEL):
            return OrderTrigger.REQUEST_CANCEL  # someone (maybe a TWS user) asked to cancel
        return OrderTrigger.ACCEPT
    if reported is S.CANCELLED:
        return OrderTrigger.CANCEL
    if reported is S.REJECTED:
        # A dead order that already filled some, or had a request out, ends as cancelled.
        had_history = filled > 0 or current in (S.PENDING_CANCEL, S.PENDING_MODIFY)
        return OrderTrigger.CANCEL if had_history else OrderTrigger.REJECT
    if reported is S.EXPIRED:
        return OrderTrigger.EXPIRE
    raise ValueError(f"{reported} is not a status a broker reports")
