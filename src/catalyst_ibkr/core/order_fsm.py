"""The order lifecycle as ONE transition table: ``(status, trigger) -> next status``.

Why a table: every "can this happen?" question about an order is answered by reading one dict,
and an event that is not in it raises instead of leaving the order in a state nobody designed.
The surprising rows are the real world: IBKR sends fills before acks, fills after a cancel was
confirmed, acks after we gave up waiting, and "too late to cancel". Each such row says why.

Statuses (``str`` values are the service's status words where one exists):

* INITIALIZED: built from a signal, risk not yet decided, nothing journaled for sending.
* DENIED: refused by our risk engine; never reached IBKR (closed).
* PENDING_SUBMIT: journaled and being sent; no answer yet.
* IN_DOUBT: sent, but the outcome is unknown (timeout, 5xx, dropped connection). Never
  resent; only reconciliation or a late broker message moves it on.
* SUBMITTED: IBKR has it and it is working. IBKR's ``PreSubmitted`` (accepted but held until
  a trigger or the session opens) is also SUBMITTED: it can fill and counts as exposure; the
  raw broker word is kept on the order for display.
* PARTIALLY_FILLED: working, with some quantity filled.
* PENDING_CANCEL / PENDING_MODIFY: working, with a cancel / modify request outstanding.
* FILLED, CANCELLED, REJECTED, EXPIRED: closed. CANCELLED and EXPIRED may carry a partial fill.

"Closed" is not "frozen": a late fill may still be recorded on a closed order, and a broker
ack on an order we *inferred* to be dead (REJECTED after the in-flight budget, EXPIRED after a
restart found nothing) brings it back, because broker evidence beats our inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "CLOSED_STATUSES",
    "IN_FLIGHT_STATUSES",
    "TRANSITIONS",
    "WORKING_STATUSES",
    "OrderStatus",
    "OrderTransition",
    "OrderTrigger",
    "next_status",
]


class OrderStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    PENDING_SUBMIT = "PENDING_SUBMIT"
    IN_DOUBT = "IN_DOUBT"
    SUBMITTED = "SUBMITTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    PENDING_MODIFY = "PENDING_MODIFY"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_working(self) -> bool:
        """Live at IBKR: can fill, can be cancelled."""
        return self in WORKING_STATUSES

    @property
    def is_in_flight(self) -> bool:
        """Sent (or being sent) without a definitive answer: may be live at IBKR."""
        return self in IN_FLIGHT_STATUSES

    @property
    def is_closed(self) -> bool:
        """Done: will not fill further unless the broker proves otherwise. Test "done" with this."""
        return self in CLOSED_STATUSES


class OrderTrigger(StrEnum):
    DENY = "DENY"  # risk engine said no
    SUBMIT = "SUBMIT"  # journaled, about to be sent
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # the send's result is unknown
    ACCEPT = "ACCEPT"  # IBKR acknowledged / reports it working
    REJECT = "REJECT"  # definitive rejection (or in-flight budget exhausted)
    FILL_PARTIAL = "FILL_PARTIAL"  # a fill that leaves quantity open
    FILL_FULL = "FILL_FULL"  # a fill that completes the quantity
    REQUEST_CANCEL = "REQUEST_CANCEL"
    CANCEL = "CANCEL"  # IBKR reports it cancelled (solicited or not)
    CANCEL_REJECT = "CANCEL_REJECT"
    REQUEST_MODIFY = "REQUEST_MODIFY"
    MODIFY_ACCEPT = "MODIFY_ACCEPT"
    MODIFY_REJECT = "MODIFY_REJECT"
    EXPIRE = "EXPIRE"  # TTL ran out before sending, or a DAY order ended


S = OrderStatus
T = OrderTrigger

WORKING_STATUSES = frozenset({S.SUBMITTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_MODIFY})
IN_FLIGHT_STATUSES = frozenset({S.PENDING_SUBMIT, S.IN_DOUBT})
CLOSED_STATUSES = frozenset({S.DENIED, S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED})

# A target of SUBMITTED means "working again"; the order shows PARTIALLY_FILLED instead when it
# already has fills (Order._settle). That keeps the table free of fill-count conditions.
TRANSITIONS: dict[tuple[OrderStatus, OrderTrigger], OrderStatus] = {
    # -- before sending ------------------------------------------------------------------------
    (S.INITIALIZED, T.DENY): S.DENIED,
    (S.INITIALIZED, T.SUBMIT): S.PENDING_SUBMIT,
    (S.INITIALIZED, T.EXPIRE): S.EXPIRED,  # TTL ran out while waiting (e.g. outage hold)
    # -- sent, waiting -------------------------------------------------------------------------
    # Resend with the SAME cOID after a definitive failure to send (connection refused):
    # still one order; IBKR's cOID uniqueness refuses a second copy.
    (S.PENDING_SUBMIT, T.SUBMIT): S.PENDING_SUBMIT,
    (S.PENDING_SUBMIT, T.ACCEPT): S.SUBMITTED,
    (S.PENDING_SUBMIT, T.REJECT): S.REJECTED,
    (S.PENDING_SUBMIT, T.OUTCOME_UNKNOWN): S.IN_DOUBT,
    (S.PENDING_SUBMIT, T.FILL_PARTIAL): S.PARTIALLY_FILLED,  # fill before ack
    (S.PENDING_SUBMIT, T.FILL_FULL): S.FILLED,  # fill before ack (marketable orders)
    (S.PENDING_SUBMIT, T.CANCEL): S.CANCELLED,  # IOC with nothing to fill, reported before ack
    # Restart found it journaled but absent at IBKR, and its signal's TTL has passed.
    (S.PENDING_SUBMIT, T.EXPIRE): S.EXPIRED,
    # -- outcome unknown: only evidence moves it ----------------------------------------------
    (S.IN_DOUBT, T.OUTCOME_UNKNOWN): S.IN_DOUBT,  # another ambiguous answer tells us nothing
    (S.IN_DOUBT, T.ACCEPT): S.SUBMITTED,  # ack after a timeout; or found by cOID
    (S.IN_DOUBT, T.REJECT): S.REJECTED,  # definitive reject found, or budget exhausted
    (S.IN_DOUBT, T.FILL_PARTIAL): S.PARTIALLY_FILLED,  # a fill proves it landed
    (S.IN_DOUBT, T.FILL_FULL): S.FILLED,
    (S.IN_DOUBT, T.CANCEL): S.CANCELLED,  # found, already cancelled
    # -- working -------------------------------------------------------------------------------
    (S.SUBMITTED, T.ACCEPT): S.SUBMITTED,  # PreSubmitted then Submitted; replayed openOrder
    # IBKR can reject after accepting, e.g. a held order turning Inactive at its trigger.
    (S.SUBMITTED, T.REJECT): S.REJECTED,
    (S.SUBMITTED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.SUBMITTED, T.FILL_FULL): S.FILLED,
    (S.SUBMITTED, T.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.SUBMITTED, T.REQUEST_MODIFY): S.PENDING_MODIFY,
    (S.SUBMITTED, T.CANCEL): S.CANCELLED,  # unsolicited: IBKR/TWS user/another client
    (S.SUBMITTED, T.EXPIRE): S.EXPIRED,
    (S.PARTIALLY_FILLED, T.ACCEPT): S.PARTIALLY_FILLED,  # late ack after a fill: nothing to undo
    (S.PARTIALLY_FILLED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.FILL_FULL): S.FILLED,
    (S.PARTIALLY_FILLED, T.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, T.REQUEST_MODIFY): S.PENDING_MODIFY,
    (S.PARTIALLY_FILLED, T.CANCEL): S.CANCELLED,  # remainder cancelled; the fills stand
    (S.PARTIALLY_FILLED, T.EXPIRE): S.EXPIRED,
    # -- cancel outstanding --------------------------------------------------------------------
    (S.PENDING_CANCEL, T.ACCEPT): S.PENDING_CANCEL,  # status echo from before our cancel landed
    (S.PENDING_CANCEL, T.REQUEST_CANCEL): S.PENDING_CANCEL,  # repeat cancel: idempotent at IBKR
    (S.PENDING_CANCEL, T.CANCEL): S.CANCELLED,
    (S.PENDING_CANCEL, T.CANCEL_REJECT): S.SUBMITTED,  # "too late to cancel": still working
    (S.PENDING_CANCEL, T.FILL_PARTIAL): S.PENDING_CANCEL,  # fill while cancelling; cancel still out
    (S.PENDING_CANCEL, T.FILL_FULL): S.FILLED,  # the fill won the race against the cancel
    (S.PENDING_CANCEL, T.EXPIRE): S.EXPIRED,  # the day ended before the cancel confirmed
    # -- modify outstanding --------------------------------------------------------------------
    (S.PENDING_MODIFY, T.ACCEPT): S.PENDING_MODIFY,  # status echo; the modify answer is separate
    (S.PENDING_MODIFY, T.MODIFY_ACCEPT): S.SUBMITTED,
    (S.PENDING_MODIFY, T.MODIFY_REJECT): S.SUBMITTED,  # unchanged and still working
    (S.PENDING_MODIFY, T.FILL_PARTIAL): S.PENDING_MODIFY,
    (S.PENDING_MODIFY, T.FILL_FULL): S.FILLED,
    (S.PENDING_MODIFY, T.REQUEST_CANCEL): S.PENDING_CANCEL,  # a cancel overrides the modify
    (S.PENDING_MODIFY, T.CANCEL): S.CANCELLED,
    (S.PENDING_MODIFY, T.EXPIRE): S.EXPIRED,
    # -- closed, but the real world keeps talking -----------------------------------------------
    (S.FILLED, T.ACCEPT): S.FILLED,  # the ack of a fill-before-ack order
    (S.FILLED, T.CANCEL_REJECT): S.FILLED,  # "already filled" answer to our cancel
    (S.FILLED, T.MODIFY_REJECT): S.FILLED,  # "already filled" answer to our modify
    (S.CANCELLED, T.ACCEPT): S.CANCELLED,  # an ack overtaken by the cancel
    (S.CANCELLED, T.CANCEL): S.CANCELLED,  # duplicate confirmation (Cancelled, then ApiCancelled)
    # Fill after cancel: it executed before the cancel took effect. Record it; the order stays
    # done unless the fill completes it.
    (S.CANCELLED, T.FILL_PARTIAL): S.CANCELLED,
    (S.CANCELLED, T.FILL_FULL): S.FILLED,
    (S.CANCELLED, T.MODIFY_REJECT): S.CANCELLED,  # "order cancelled" answer to a modify
    (S.EXPIRED, T.EXPIRE): S.EXPIRED,
    (S.EXPIRED, T.FILL_PARTIAL): S.EXPIRED,  # fill racing the end of day, as for CANCELLED
    (S.EXPIRED, T.FILL_FULL): S.FILLED,
    (S.EXPIRED, T.CANCEL): S.EXPIRED,  # IBKR reports a DAY order's end as Cancelled
    # We expired it because a restart found nothing at IBKR; an ack proves it exists. Counting
    # it as working until reconciliation settles it is the safe side for every risk limit.
    (S.EXPIRED, T.ACCEPT): S.SUBMITTED,
    (S.REJECTED, T.REJECT): S.REJECTED,  # duplicate (Inactive reported twice)
    (S.REJECTED, T.CANCEL): S.REJECTED,  # IBKR often ends a rejected order as Cancelled
    # REJECTED may be our inference (in-flight budget exhausted). A later ack or fill is broker
    # evidence that the order lives; it wins.
    (S.REJECTED, T.ACCEPT): S.SUBMITTED,
    (S.REJECTED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.REJECTED, T.FILL_FULL): S.FILLED,
    # DENIED has no rows: it never left the process, so nothing may come back for it.
}


@dataclass(frozen=True, slots=True)
class OrderTransition:
    """One applied event, kept on the order for the audit trail and the events stream."""

    at: datetime
    trigger: OrderTrigger
    before: OrderStatus
    after: OrderStatus
    detail: str = ""


def next_status(status: OrderStatus, trigger: OrderTrigger) -> OrderStatus | None:
    """The status after ``trigger`` in ``status``; None when the table does not allow it."""
    return TRANSITIONS.get((status, trigger))
