"""The paper-to-live interlock: never trade an account the configured mode does not expect.

Why at two moments: the config guards (``config.guards``) catch what the file says at start,
but the account that matters is the one the *gateway* logs into (IBeam's credentials decide
it, not our config). So the interlock checks the settings at start and then every account id
the broker reports (account summary, positions, orders, fills). A mismatch trips it: new
orders and modifications are refused locally (no broker call) until the service is
restarted with a configuration that agrees; cancels always pass, so a kill switch still
works. A test-only ``[pacing] time_scale`` is refused as soon as a live account shows up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from catalyst_ibkr.config.guards import is_paper_account, mode_account_problem, time_scale_problem
from catalyst_ibkr.config.settings import Settings
from catalyst_ibkr.core.ids import ClientOrderId, ConId
from catalyst_ibkr.core.instruments import Instrument
from catalyst_ibkr.core.market import Quote
from catalyst_ibkr.ports.broker import (
    AccountSummary,
    Broker,
    BrokerEvent,
    CancelOrder,
    CommandOutcome,
    EventStream,
    ExecutionReport,
    FillEvent,
    ModifyOrder,
    OrderEvent,
    OrderReport,
    PlaceOrder,
    PositionReport,
    Rejected,
    SessionHealth,
)

__all__ = ["INTERLOCK_CODE", "InterlockRefused", "InterlockedBroker", "PaperLiveInterlock"]

log = logging.getLogger(__name__)

#: ``Rejected.code`` of an order the interlock refused (no broker call was made).
INTERLOCK_CODE = "INTERLOCK"


class InterlockRefused(RuntimeError):
    """The configuration itself disagrees: the service must not start (message says why)."""


@dataclass(frozen=True)
class InterlockState:
    mode: str
    account: str | None  # the account the broker reported (or the configured one)
    tripped: bool
    problem: str | None


class PaperLiveInterlock:
    """Holds the mode, the account seen, and whether trading is refused (and why)."""

    def __init__(
        self, settings: Settings, *, on_trip: Callable[[str], None] | None = None
    ) -> None:
        self._settings = settings
        self.mode = settings.gateway.mode
        self._configured = settings.gateway.account
        self._seen: str | None = None
        self._problem: str | None = None
        self._on_trip = on_trip

    @property
    def state(self) -> InterlockState:
        return InterlockState(
            mode=self.mode,
            account=self._seen or self._configured,
            tripped=self._problem is not None,
            problem=self._problem,
        )

    @property
    def account_seen(self) -> bool:
        return self._seen is not None

    @property
    def problem(self) -> str | None:
        return self._problem

    def check_start(self) -> None:
        """Raise ``InterlockRefused`` when the settings alone disagree (before any I/O)."""
        problem = mode_account_problem(self.mode, self._configured) or time_scale_problem(
            self._settings
        )
        if problem is not None:
            raise InterlockRefused(problem)

    def observe_account(self, account: str) -> str | None:
        """Check an account id the broker reported; trips (once) and returns the problem."""
        if self._seen == account or self._problem is not None:
            return self._problem
        self._seen = account
        problem = self._problem_for(account)
        if problem is not None:
            self._trip(problem)
        return problem

    def observe_gateway_accounts(self, accounts: Sequence[str]) -> str | None:
        """Check the accounts the gateway's login can trade (its account list).

        An adapter may report the *configured* account id on everything it returns, so the
        list the gateway itself gives is the stronger evidence: the configured account must
        be in it, and every account in it must suit the mode.
        """
        if self._problem is not None or not accounts:
            return self._problem
        wanted = self._configured
        if wanted is not None and wanted.upper() not in {a.upper() for a in accounts}:
            self._trip(
                f"the gateway's login trades {', '.join(accounts)}, not [gateway] account "
                f"{wanted}; check which user IBeam / IB Gateway logs in"
            )
            return self._problem
        for account in accounts if wanted is None else [wanted]:
            if self.observe_account(account) is not None:
                break
        return self._problem

    def _trip(self, problem: str) -> None:
        self._problem = problem
        log.error("paper/live interlock tripped, trading refused: %s", problem)
        if self._on_trip is not None:
            self._on_trip(problem)

    def _problem_for(self, account: str) -> str | None:
        if self._configured is not None and account.upper() != self._configured.upper():
            return (
                f"the gateway reports account {account} but [gateway] account is "
                f"{self._configured}; check which user IBeam logs in"
            )
        if self.mode == "live" and is_paper_account(account):
            return f'mode = "live" but the gateway is logged into paper account {account}'
        if self.mode != "live" and not is_paper_account(account):
            return (
                f'the gateway is logged into live account {account} but mode is "{self.mode}"; '
                'set [gateway] mode = "live" and account on purpose to trade it'
            )
        return time_scale_problem(self._settings, account)


class InterlockedBroker:
    """A ``Broker`` that checks every reported account and refuses orders once tripped.

    Wraps the real adapter, so the OMS needs no knowledge of the interlock: a refused
    place/modify comes back as a definitive ``Rejected`` (code ``INTERLOCK``) without any
    broker call; cancels and reads pass through.
    """

    def __init__(self, inner: Broker, interlock: PaperLiveInterlock) -> None:
        self.inner = inner
        self.interlock = interlock

    def _refusal(self, cid: ClientOrderId | None) -> Rejected | None:
        problem = self.interlock.problem
        if problem is None:
            return None
        return Rejected(cid, f"paper/live interlock: {problem}", code=INTERLOCK_CODE)

    async def _ensure_account_checked(self) -> None:
        if not self.interlock.account_seen:
            summary = await self.inner.account()
            self.interlock.observe_account(str(summary.account))

    async def check_gateway_accounts(self) -> str | None:
        """Read the gateway login's account list (TWS: managed accounts; Web API:
        ``/iserver/accounts``) and check it; None when this adapter offers neither."""
        ib = getattr(self.inner, "ib", None)
        stack = getattr(self.inner, "stack", None)
        accounts: list[str] = []
        if ib is not None and callable(getattr(ib, "managedAccounts", None)):
            accounts = [str(a) for a in ib.managedAccounts()]
        elif stack is not None and hasattr(stack, "client"):
            answer = await stack.client.iserver_accounts()
            accounts = [str(a) for a in answer.accounts]
        return self.interlock.observe_gateway_accounts(accounts)

    async def health(self) -> SessionHealth:
        """The session's health; while tripped, "not usable" with the interlock's reason, so
        the service holds (and shows why) instead of queueing orders to be refused."""
        health = await self.inner.health()
        problem = self.interlock.problem
        if problem is None:
            return health
        return SessionHealth(
            connected=health.connected,
            authenticated=False,
            time=health.time,
            competing=health.competing,
            detail=f"paper/live interlock: {problem}",
        )

    async def resolve(
        self,
        symbol: str,
        *,
        sec_type: str = "STK",
        exchange: str | None = None,
        currency: str = "USD",
    ) -> Instrument:
        return await self.inner.resolve(
            symbol, sec_type=sec_type, exchange=exchange, currency=currency
        )

    async def quotes(self, conids: Sequence[ConId]) -> Sequence[Quote]:
        return await self.inner.quotes(conids)

    async def place(self, request: PlaceOrder) -> CommandOutcome:
        if request.account is not None:
            self.interlock.observe_account(str(request.account))
        else:
            await self._ensure_account_checked()
        refusal = self._refusal(request.client_order_id)
        if refusal is not None:
            return refusal
        return await self.inner.place(request)

    async def modify(self, request: ModifyOrder) -> CommandOutcome:
        refusal = self._refusal(request.client_order_id)
        if refusal is not None:
            return refusal
        return await self.inner.modify(request)

    async def cancel(self, request: CancelOrder) -> CommandOutcome:
        return await self.inner.cancel(request)

    async def cancel_all(self) -> CommandOutcome:
        return await self.inner.cancel_all()

    async def order(self, client_order_id: ClientOrderId) -> OrderReport | None:
        report = await self.inner.order(client_order_id)
        if report is not None:
            self.interlock.observe_account(str(report.account))
        return report

    async def open_orders(self) -> Sequence[OrderReport]:
        reports = await self.inner.open_orders()
        for report in reports:
            self.interlock.observe_account(str(report.account))
        return reports

    async def executions(self, since: datetime) -> Sequence[ExecutionReport]:
        reports = await self.inner.executions(since)
        for report in reports:
            self.interlock.observe_account(str(report.account))
        return reports

    async def positions(self) -> Sequence[PositionReport]:
        reports = await self.inner.positions()
        for report in reports:
            self.interlock.observe_account(str(report.account))
        return reports

    async def account(self) -> AccountSummary:
        summary = await self.inner.account()
        self.interlock.observe_account(str(summary.account))
        return summary

    def events(self) -> EventStream:
        return self._watched(self.inner.events())

    async def _watched(self, stream: EventStream) -> AsyncGenerator[BrokerEvent, None]:
        try:
            async for event in stream:
                if isinstance(event, OrderEvent):
                    self.interlock.observe_account(str(event.report.account))
                elif isinstance(event, FillEvent):
                    self.interlock.observe_account(str(event.execution.account))
                yield event
        finally:
            await stream.aclose()

    def __getattr__(self, name: str) -> object:
        # adapter extras (e.g. the Web API stack for the watchdog) stay reachable
        return getattr(self.inner, name)
