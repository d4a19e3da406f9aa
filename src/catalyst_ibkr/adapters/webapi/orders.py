"""Placing and modifying orders over the Web API: request building and the question dialogue.

Rules kept here (reliability.md (a) 18, 25, 28):

- every order carries our cOID (``OrderRequest`` refuses one without);
- IBKR's "are you sure?" questions are answered by MESSAGE ID from the ``[questions]``
  allow-list, never by matching their text and never blanket-confirmed; a question with any
  id outside the list is declined (``confirmed: false``) and the order ends as a definitive
  ``Rejected`` quoting IBKR's words;
- every question and its answer goes to ``on_question`` (the journal) before the answer is
  sent, so the record exists even if the reply's outcome is unknown;
- the POST and each reply are sent once: ``OutcomeUnknown`` from the transport propagates
  (the broker turns it into the port's OutcomeUnknown) and nothing here retries;
- the dialogue is serialised per account by the caller's lock, because IBKR discards a
  pending question when any other order request arrives first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from catalyst_ibkr.core.enums import OrderType
from catalyst_ibkr.core.ids import BrokerOrderId, ClientOrderId
from catalyst_ibkr.ports.broker import Accepted, OrderReport, PlaceOrder, Rejected

from .endpoints import OrderAnswer
from .errors import OrderRejected
from .parse import OrderAccepted, QuestionAsked, placement_steps
from .wire import OrderRequest

__all__ = [
    "MAX_QUESTION_ROUNDS",
    "QuestionPolicy",
    "QuestionRecord",
    "modify_request",
    "place_requests",
    "run_dialogue",
]

MAX_QUESTION_ROUNDS = 20

_WIRE_TYPES = {
    OrderType.MKT: "MKT",
    OrderType.LMT: "LMT",
    OrderType.STP: "STP",
    OrderType.STP_LMT: "STOP_LIMIT",
}


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """One question IBKR asked about an order, and what we answered."""

    client_order_id: ClientOrderId
    reply_id: str
    message_ids: tuple[str, ...]
    message: str
    confirmed: bool


@dataclass(frozen=True)
class QuestionPolicy:
    """Which message ids are confirmed; everything else is declined."""

    confirm: frozenset[str]
    on_question: Callable[[QuestionRecord], None] | None = None

    def allows(self, message_ids: Sequence[str]) -> bool:
        return bool(message_ids) and all(mid in self.confirm for mid in message_ids)


def _prices(
    order_type: OrderType, limit: Decimal | None, stop: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """IBKR's ``price`` / ``auxPrice``: a STP's trigger travels in ``price``."""
    if order_type is OrderType.STP:
        return stop, None
    if order_type is OrderType.STP_LMT:
        return limit, stop
    return limit, None


def place_requests(request: PlaceOrder, account: str) -> list[OrderRequest]:
    """The wire orders for a placement: the parent, then bracket children (``parentId``)."""
    price, aux = _prices(request.order_type, request.limit_price, request.stop_price)
    parent = OrderRequest(
        acctId=account,
        conid=int(request.instrument.conid),
        cOID=str(request.client_order_id),
        side=request.side.value,
        orderType=_WIRE_TYPES[request.order_type],
        quantity=request.quantity,
        price=price,
        auxPrice=aux,
        tif=request.tif.value,
        outsideRTH=request.outside_rth,
    )
    children = [
        OrderRequest(
            acctId=account,
            conid=int(request.instrument.conid),
            cOID=str(leg.client_order_id),
            parentId=str(request.client_order_id),
            side=request.side.opposite.value,
            orderType=_WIRE_TYPES[leg.order_type],
            quantity=request.quantity,
            price=leg.price,
            tif=request.tif.value,
            outsideRTH=request.outside_rth,
            isSingleGroup=True,
        )
        for leg in request.legs
    ]
    return [parent, *children]


def modify_request(
    current: OrderReport,
    account: str,
    *,
    quantity: Decimal | None,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
) -> OrderRequest:
    """The full order again with the changed values (IBKR wants every field repeated)."""
    if current.client_order_id is None:
        raise ValueError("only orders with a cOID can be modified through this adapter")
    limit = limit_price if limit_price is not None else current.limit_price
    stop = stop_price if stop_price is not None else current.stop_price
    price, aux = _prices(current.order_type, limit, stop)
    return OrderRequest(
        acctId=account,
        conid=int(current.conid),
        cOID=str(current.client_order_id),
        side=current.side.value,
        orderType=_WIRE_TYPES[current.order_type],
        quantity=quantity if quantity is not None else current.quantity,
        price=price,
        auxPrice=aux,
        tif=current.tif.value,
    )


Reply = Callable[[str, bool], Awaitable[OrderAnswer]]


async def run_dialogue(
    first: Callable[[], Awaitable[OrderAnswer]],
    reply: Reply,
    *,
    coid: ClientOrderId,
    policy: QuestionPolicy,
) -> Accepted | Rejected:
    """Send the order once, answer its questions by id, and classify the end.

    ``first`` sends the POST; ``reply(reply_id, confirmed)`` answers one question. Raises
    the transport's ``OutcomeUnknown`` unchanged (never resent here).
    """
    try:
        answer = await first()
    except OrderRejected as exc:
        return Rejected(coid, exc.ibkr_text or exc.message, code=_code(exc.ibkr_text))
    for _ in range(MAX_QUESTION_ROUNDS):
        steps = placement_steps(answer)
        accepted = [s for s in steps if isinstance(s, OrderAccepted)]
        questions = [s for s in steps if isinstance(s, QuestionAsked)]
        if not questions:
            if not accepted:
                return Rejected(coid, "IBKR answered without an order id or a question")
            top = accepted[0]
            return Accepted(coid, BrokerOrderId(top.order_id), detail=top.status or "")
        question = questions[0]
        confirmed = policy.allows(question.message_ids)
        if policy.on_question is not None:
            policy.on_question(
                QuestionRecord(
                    coid, question.reply_id, question.message_ids, question.text, confirmed
                )
            )
        ids = ",".join(question.message_ids) or "without an id"
        try:
            answer = await reply(question.reply_id, confirmed)
        except OrderRejected as exc:
            if confirmed:
                return Rejected(coid, exc.ibkr_text or exc.message, code=_code(exc.ibkr_text))
            return _declined(coid, ids, question.text)
        if not confirmed:
            # IBKR discards the order on confirmed:false. Should it answer with a live order
            # anyway, that order exists: report it as accepted, never hide it as rejected.
            live = [s for s in placement_steps(answer) if isinstance(s, OrderAccepted)]
            if live:
                return Accepted(coid, BrokerOrderId(live[0].order_id), detail=live[0].status or "")
            return _declined(coid, ids, question.text)
    return Rejected(coid, f"IBKR asked more than {MAX_QUESTION_ROUNDS} questions; gave up")


def _declined(coid: ClientOrderId, ids: str, text: str) -> Rejected:
    first_id = ids.split(",", 1)[0]
    return Rejected(
        coid,
        f"declined IBKR question {ids} (not in the [questions] confirm list): {text.strip()}",
        code=first_id,
    )


def _code(text: str) -> str | None:
    lowered = text.lower()
    if "already registered" in lowered:
        return "duplicate_coid"
    return None
