"""`WebApiBroker`: the Broker port over the Client Portal Web API stack.

It only builds requests, calls the raw client and parses (style.md §7 principle 7); the
rules live in helpers, one job each:

- ``contracts``  symbol -> conid, batched and cached per gateway identity;
- ``snapshots``  snapshots with the pre-flight polled to a deadline;
- ``orders``     request building and the question dialogue (answered by message id);
- ``gate``       nothing else reaches the gateway while a question is pending;
- ``lookup``     orders found again by cOID, a blank pre-flight list never read as absence;
- ``stream``     the websocket as order/fill/health events.

Error translation at this boundary: an adapter ``OutcomeUnknown`` becomes the port's
``OutcomeUnknown`` (with the cOID); any other adapter error on a command means nothing was
placed (a 401, a refused connection, a paused pacing scope) and becomes
``BrokerUnavailable``; read errors become ``BrokerUnavailable`` too. The original error is
chained (``from``) and its text, which says what to do, is kept.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.ports.broker import (
    Accepted,
    AccountSummary,
    BrokerError,
    BrokerMisconfigured,
    BrokerUnavailable,
    CancelOrder,
    CommandOutcome,
    EventStream,
    ExecutionReport,
    InstrumentNotFound,
    ModifyOrder,
    OrderReport,
    OutcomeUnknown,
    PlaceOrder,
    PositionReport,
    Rejected,
    SessionHealth,
)

from . import errors as web
from .contracts import ConidCache, GatewayIdentity, resolve_symbols
from .gate import DialogueGate
from .lookup import OrderLookup
from .orders import QuestionPolicy, QuestionRecord, modify_request, place_requests, run_dialogue
from .pacing import Clock, SystemClock
from .parse import (
    QUOTE_FIELDS,
    SnapshotQuote,
    StockCandidate,
    account_summary,
    position_report,
    stock_candidates,
)
from .session import HealthState
from .snapshots import SnapshotIncomplete, SnapshotPoller, SnapshotSettings
from .stack import WebApiStack
from .stream import OrderStream, StreamSettings

__all__ = ["BrokerSettings", "PortfolioLine", "WebApiBroker"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_SHARED_CACHE = ConidCache()


@dataclass(frozen=True)
class BrokerSettings:
    """What the adapter needs beyond the stack (``[gateway] account``, ``[questions]``)."""

    account: str | None = None
    confirm_questions: frozenset[str] = frozenset()
    suppress_questions: bool = True
    snapshot: SnapshotSettings = field(default_factory=SnapshotSettings)
    stream: StreamSettings = field(default_factory=StreamSettings)
    preflight_attempts: int = 4


@dataclass(frozen=True, slots=True)
class PortfolioLine:
    position: PositionReport
    market_value: Decimal | None
    unrealized_pnl: Decimal | None


class WebApiBroker:
    """One Client Portal gateway and one account. ``await start()`` for keepalive/stream."""

    def __init__(
        self,
        stack: WebApiStack,
        settings: BrokerSettings | None = None,
        *,
        on_question: Callable[[QuestionRecord], None] | None = None,
        cache: ConidCache | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.stack = stack
        self.settings = settings or BrokerSettings()
        self.client = stack.client
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._policy = QuestionPolicy(self.settings.confirm_questions, on_question)
        self._cache = cache if cache is not None else _SHARED_CACHE
        self._account: str | None = self.settings.account
        self._accounts: list[str] = []
        self._gate = DialogueGate()
        self._suppress_due = False
        self._suppress_lock = asyncio.Lock()
        self.client.transport.send_guard = self._gate.request
        self.lookup = OrderLookup(self.client, preflight_attempts=self.settings.preflight_attempts)
        self.snapshots = SnapshotPoller(self.client, self._clock, self.settings.snapshot)
        self.stream = OrderStream(
            gateway_url=stack.gateway_url,
            tls_plan=stack.tls_plan,
            session_id=self._session_id,
            refresh_orders=self._refresh_for_stream,
            clock=self._clock,
            settings=self.settings.stream,
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, *, keepalive: bool = True, stream: bool = True) -> WebApiBroker:
        """Check the session, pick the account, start tickling and the websocket."""
        health = await self.stack.keeper.check()
        if not health.ok and keepalive and health.state is HealthState.NOT_AUTHENTICATED:
            # A long-running service (keepalive) meets a reachable gateway whose brokerage
            # session closed (idle expiry while we were down, e.g. after a crash): the
            # repair check() just sent usually reopens it within seconds, so wait for it
            # (bounded by the keeper's recover timeout) instead of failing the start. A
            # one-shot CLI command fails fast instead (exit 4 with the cause).
            try:
                await self.stack.keeper.recover()
            except web.WebApiError as exc:
                raise BrokerUnavailable(f"the gateway session is not usable: {exc}") from exc
            health = self.stack.keeper.health
        if not health.ok:
            raise BrokerUnavailable(
                f"the gateway session is not usable ({health.state.value}: {health.detail})"
            )
        account = await self.account_id()
        if self._accounts and account not in self._accounts:
            raise BrokerMisconfigured(
                f"account {account} is not on this gateway (it has "
                f"{', '.join(self._accounts)}); fix --account or [gateway] account"
            )
        if keepalive:
            self.stack.keeper.start()
        if stream:
            self.stream.start()
            if not await self.stream.wait_connected(self.settings.stream.connect_timeout_s):
                log.warning("the gateway websocket is not connected yet; still trying")
        return self

    async def close(self) -> None:
        await self.stream.stop()
        await self.stack.aclose()

    async def on_new_session(self) -> None:
        """Per brokerage session: the accounts warm-up; question suppression falls due.

        Suppression is sent just before the session's first order (``_suppress_if_due``),
        not here: a session that only quotes or reads the portfolio never needs it, and
        every request spent is pacing budget (and wall time) taken from real work.
        """
        accounts = await self.client.iserver_accounts()
        self._accounts = list(accounts.accounts)
        self.lookup.new_session()
        self._suppress_due = bool(
            self.settings.suppress_questions and self.settings.confirm_questions
        )

    async def _suppress_if_due(self) -> None:
        """Suppress the allowed question ids once per brokerage session, before its first order.

        A failure is logged and retried before the next order; this order still goes, and
        any question it draws is answered by message id from the allow-list as always.
        """
        if not self._suppress_due:
            return
        async with self._suppress_lock:
            if not self._suppress_due:
                return
            try:
                await self.client.suppress_questions(sorted(self.settings.confirm_questions))
            except web.WebApiError as exc:
                log.warning("question suppression failed (questions will be answered by id): %s",
                            exc.message)
                return
            self._suppress_due = False

    async def account_id(self) -> str:
        if self._account is not None:
            return self._account
        accounts = self._accounts or list(
            (await self._read(self.client.iserver_accounts())).accounts
        )
        self._accounts = accounts
        if len(accounts) != 1:
            raise BrokerUnavailable(
                f"the gateway has {len(accounts)} accounts ({', '.join(accounts) or 'none'}); "
                "name one with --account or [gateway] account"
            )
        self._account = accounts[0]
        return self._account

    @property
    def identity(self) -> GatewayIdentity:
        return GatewayIdentity(self.stack.gateway_url.rstrip("/"), self._account or "")

    # -- reads ----------------------------------------------------------------------------

    async def health(self) -> SessionHealth:
        return (await self.stack.keeper.check()).to_port()

    async def resolve(self, symbol: str, *, sec_type: str = "STK",
                      exchange: str | None = None, currency: str = "USD") -> Instrument:
        if sec_type.upper() != "STK":
            raise InstrumentNotFound(symbol, "this adapter resolves stocks (STK) by symbol")
        found = await self.resolve_many([symbol], exchange=exchange, currency=currency)
        value = next(iter(found.values()))
        if isinstance(value, BrokerError):
            raise value
        return value

    async def resolve_many(
        self, symbols: Sequence[str], *, exchange: str | None = None, currency: str = "USD"
    ) -> dict[str, Instrument | BrokerError]:
        """Each symbol's instrument or its own error (unknown, ambiguous)."""
        await self.account_id()
        return await resolve_symbols(
            symbols, self._fetch_stocks, cache=self._cache, identity=self.identity,
            exchange=exchange, currency=currency,
        )

    async def _fetch_stocks(self, symbols: Sequence[str]) -> dict[str, list[StockCandidate]]:
        return stock_candidates(await self._read(self.client.trsrv_stocks(symbols)))

    async def snapshot(
        self,
        conids: Sequence[int],
        fields: Sequence[str] = QUOTE_FIELDS,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[int, SnapshotQuote]:
        """Complete snapshots, or ``SnapshotIncomplete`` naming what never arrived."""
        return await self._read(self.snapshots.collect(conids, fields, progress=progress))

    async def quotes(self, conids: Sequence[ConId]) -> Sequence[Quote]:
        """Quotes observed now.

        A snapshot is read from a stream the gateway keeps current, so its prices hold at
        the moment of the answer; IBKR's ``_updated`` is when they last *changed*, which for
        a quiet stock can be many seconds ago. The quote's time is therefore the time we
        received it (freshness checks would otherwise refuse every quiet instrument).
        """
        try:
            rows = await self.snapshot(conids)
        except SnapshotIncomplete as exc:
            rows = exc.partial
        now = self._now()
        out: list[Quote] = []
        for conid in conids:
            row = rows.get(int(conid))
            quote = row.to_quote(now) if row is not None else None
            if quote is not None:
                out.append(replace(quote, time=now))
        return out

    async def order(self, client_order_id: ClientOrderId) -> OrderReport | None:
        return await self._read(self.lookup.by_coid(client_order_id, self._now()))

    async def orders_today(self) -> list[OrderReport]:
        return await self._read(self.lookup.live_orders(self._now()))

    async def open_orders(self) -> Sequence[OrderReport]:
        return [r for r in await self.orders_today() if not r.status.is_closed]

    async def executions(self, since: datetime) -> Sequence[ExecutionReport]:
        days = math.ceil((self._now() - since).total_seconds() / 86400) + 1
        rows = await self._read(self.lookup.executions(days=days))
        return sorted((x for x in rows if x.time >= since), key=lambda x: x.time)

    async def positions(self) -> Sequence[PositionReport]:
        return [line.position for line in await self.portfolio()]

    async def portfolio(self) -> list[PortfolioLine]:
        """Non-flat positions with IBKR's market value and unrealized P&L (all pages)."""
        account = await self.account_id()
        out: list[PortfolioLine] = []
        for page in range(100):
            rows = await self._read(self.client.positions(account, page))
            out.extend(
                PortfolioLine(position_report(r, account), r.mktValue, r.unrealizedPnl)
                for r in rows
            )
            if len(rows) < 100:
                break
        return [line for line in out if line.position.quantity != 0]

    async def account(self) -> AccountSummary:
        account = await self.account_id()
        summary = await self._read(self.client.account_summary(account))
        try:
            return account_summary(account, summary, self._now())
        except ValueError as exc:
            raise BrokerUnavailable(f"the account summary is incomplete: {exc}") from exc

    def events(self) -> EventStream:
        subscription = self.stream.fanout.subscribe()
        self.stream.start()
        return subscription

    # -- commands -------------------------------------------------------------------------

    async def place(self, request: PlaceOrder) -> CommandOutcome:
        coid = request.client_order_id
        account = await self.account_id()
        if request.account is not None and request.account != account:
            return Rejected(coid, f"account {request.account} is not this gateway's {account}")
        try:
            wires = place_requests(request, account)
            for wire in wires:
                wire.to_wire()  # a price that cannot be sent exactly is refused before I/O
        except ValueError as exc:
            return Rejected(coid, f"not sent: {exc}")
        await self._suppress_if_due()
        async with self._command(coid):
            outcome = await run_dialogue(
                lambda: self.client.place_orders(account, wires),
                lambda rid, ok: self.client.reply(rid, confirmed=ok, coid=coid),
                coid=coid, policy=self._policy,
            )
        if isinstance(outcome, Accepted) and outcome.broker_order_id is not None:
            self.lookup.order_ids[coid] = outcome.broker_order_id
        return outcome

    async def modify(self, request: ModifyOrder) -> CommandOutcome:
        coid = request.client_order_id
        account = await self.account_id()
        current = await self.order(coid)
        if current is None:
            return Rejected(coid, f"no order with cOID {coid} today")
        if current.status.is_closed:
            return Rejected(coid, f"order {current.broker_order_id} is {current.status.value}")
        try:
            wire = modify_request(current, account, quantity=request.quantity,
                                  limit_price=request.limit_price, stop_price=request.stop_price)
            wire.to_wire()
        except ValueError as exc:
            return Rejected(coid, f"not sent: {exc}")
        order_id = int(current.broker_order_id)
        await self._suppress_if_due()
        async with self._command(coid):
            return await run_dialogue(
                lambda: self.client.modify_order(account, order_id, wire),
                lambda rid, ok: self.client.reply(rid, confirmed=ok, coid=coid),
                coid=coid, policy=self._policy,
            )

    async def cancel(self, request: CancelOrder) -> CommandOutcome:
        coid = request.client_order_id
        account = await self.account_id()
        order_id = request.broker_order_id
        if order_id is None and coid is not None:
            order_id = self.lookup.order_ids.get(coid)
            if order_id is None:
                report = await self.order(coid)
                if report is None:
                    return Rejected(coid, f"no order with cOID {coid} today")
                order_id = report.broker_order_id
        assert order_id is not None  # CancelOrder guarantees one of the two
        async with self._command(coid, gated=False):
            try:
                answer = await self.client.cancel_order(account, int(order_id))
            except web.OrderRejected as exc:
                return Rejected(coid, exc.ibkr_text or exc.message)
        return Accepted(coid, order_id, detail=answer.msg or "cancel requested")

    async def cancel_all(self) -> CommandOutcome:
        """One ``DELETE .../order/-1``: IBKR cancels every working order of the account.

        Why not read the book and cancel order by order: the live-orders list needs two
        calls 5 s apart (its pre-flight answers blank first, cpapi.md §6.5) and then one
        DELETE per order, each a pacing slot, so a kill switch over 100 orders took ~20 s
        where this takes one request. Acceptance is not the cancel itself (§6.9): whether
        every order really ended is the caller's reconciliation (the service's kill switch
        verifies it), not something this call can promise. A lost answer is
        ``OutcomeUnknown``; a DELETE is idempotent, so sending it again is safe.
        """
        account = await self.account_id()
        async with self._command(None, gated=False):
            try:
                answer = await self.client.cancel_order(account, -1)
            except web.OrderRejected as exc:
                return Rejected(None, exc.ibkr_text or exc.message)
        return Accepted(None, detail=answer.msg or "cancel requested for every working order")

    # -- plumbing -------------------------------------------------------------------------

    async def _require_session(self) -> None:
        """No order while the session is known to be unusable (401, competing, IBeam down).

        The keeper's last view is trusted only when healthy; otherwise it is checked once
        more (one tickle, which may also repair it) before refusing.
        """
        if self.stack.keeper.health.ok:
            return
        health = await self.stack.keeper.check()
        if not health.ok:
            raise BrokerUnavailable(
                f"nothing was sent: the gateway session is not usable ({health.state.value}: "
                f"{health.detail})"
            )

    @asynccontextmanager
    async def _command(self, coid: ClientOrderId | None, *,
                       gated: bool = True) -> AsyncIterator[None]:
        """Hold other requests back (place/modify) and translate errors to the port's."""
        try:
            await self._require_session()
            if gated:
                async with self._gate.exclusive():
                    yield
            else:
                yield
        except web.OutcomeUnknown as exc:
            raise OutcomeUnknown(coid, str(exc)) from exc
        except web.SessionError as exc:
            # Not processed (401 and kin): repair the session for the NEXT command; this one
            # is not resent (the caller decides, with the same cOID).
            await self.stack.keeper.check()
            raise BrokerUnavailable(f"nothing was placed: {exc}") from exc
        except web.WebApiError as exc:
            raise BrokerUnavailable(f"nothing was placed: {exc}") from exc

    async def _read(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except web.WebApiError as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def _session_id(self) -> str | None:
        return (await self.client.tickle()).session

    async def _refresh_for_stream(self) -> Sequence[OrderReport]:
        return await self.lookup.live_orders(self._now())

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), tz=UTC)
