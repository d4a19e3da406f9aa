"""The theoretical minimum of each workload under IBKR's published limits (cpapi.md §5, §7).

These are floors no client can beat without breaking a limit: they count the fewest requests
the task needs and the earliest moment the pacing rules let the last one go, with zero
network and server time. Every window is divided by the run's time scale, exactly as the
simulator divides its own, so the ratio "measured / minimum" means the same at any scale.

Pacing as the simulator (and IBKR) counts it: at most N requests in any window of W seconds,
counted on arrival. A sequence of R requests that only the global limit (10 per 1 s) governs
can therefore finish no earlier than ``floor((R - 1) / 10)`` windows after the first one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "GLOBAL_PER_S",
    "QUESTIONS_PER_ORDER",
    "SNAPSHOT_MAX_CONIDS",
    "SOCKET_PER_S",
    "Minimum",
    "dashboard_minimum",
    "orders_minimum",
    "paced_floor_s",
    "quotes_minimum",
    "socket_floor_s",
    "socket_orders_minimum",
    "socket_quotes_minimum",
]

GLOBAL_PER_S = 10  # cpapi §7: 10 req/s through the CP Gateway
SNAPSHOT_MAX_CONIDS = 100  # cpapi §5.1: <= 100 conids per snapshot request
SLOW_WINDOW_S = 5.0  # cpapi §7: /portfolio/accounts, /iserver/account/orders, trades: 1 / 5 s
SOCKET_PER_S = 50  # tws.md / IBKR: 50 messages per second from one API client
#: a limit far from the market asks o163 (Percentage constraint) then o10153 (Mandatory Cap
#: Price), the recorded chain of cpapi §6.2 minus o354 (the simulated account has data)
QUESTIONS_PER_ORDER = 2


@dataclass(frozen=True)
class Minimum:
    """Fewest requests and earliest finish (seconds, already time-scaled)."""

    requests: int
    seconds: float
    derivation: str
    #: for the dashboard: most refreshes that fit in the minute
    refreshes: int | None = None


def paced_floor_s(requests: int, per_window: int = GLOBAL_PER_S, window_s: float = 1.0) -> float:
    """Earliest finish of ``requests`` sends under "at most N per W s, counted on arrival"."""
    if requests <= 0:
        return 0.0
    return ((requests - 1) // per_window) * window_s


def quotes_minimum(symbols: int, time_scale: float = 1.0) -> Minimum:
    """1 ``/iserver/accounts`` (the warm-up snapshots need) + 1 ``/trsrv/stocks`` (it takes
    a comma-separated symbol list; IBKR documents no cap) + 2 snapshot requests per 100 conids
    (the pre-flight that opens the streams, then the read)."""
    snapshots = 2 * math.ceil(symbols / SNAPSHOT_MAX_CONIDS)
    requests = 1 + 1 + snapshots
    seconds = paced_floor_s(requests) / time_scale
    return Minimum(
        requests, seconds,
        f"1 accounts + 1 /trsrv/stocks + {snapshots} snapshots (pre-flight + read per "
        f"{SNAPSHOT_MAX_CONIDS} conids) = {requests} requests; at 10/s the last may go at "
        f"floor(({requests}-1)/10) s = {paced_floor_s(requests):g} s",
    )


def orders_minimum(orders: int, time_scale: float = 1.0) -> Minimum:
    """Orders go one at a time (any request between a question and its reply voids the
    order, cpapi §6.2). IBKR offers two ways to say yes to o163/o10153: reply to each
    question, or suppress those ids once per brokerage session (cpapi §6.3,
    ``/iserver/questions/suppress``). The minimum takes the cheaper: 1 warm-up + 1 suppress
    + 1 place per order + one ``DELETE .../order/-1`` that cancels them all."""
    requests = 1 + 1 + orders + 1
    seconds = paced_floor_s(requests) / time_scale
    answering = 1 + orders * (1 + QUESTIONS_PER_ORDER) + 1
    return Minimum(
        requests, seconds,
        f"suppressing the two ids: 1 accounts + 1 suppress + {orders} places + 1 cancel-all "
        f"= {requests} requests; floor(({requests}-1)/10) s = {paced_floor_s(requests):g} s. "
        f"(Answering each question instead: 1 + {orders} x (place + "
        f"{QUESTIONS_PER_ORDER} replies) + 1 = {answering} requests, "
        f"{paced_floor_s(answering) / time_scale:g} s)",
    )


def dashboard_minimum(
    duration_s: float, pages: int, time_scale: float = 1.0
) -> Minimum:
    """A refresh is /portfolio/accounts, summary, ``pages`` position pages, live orders and
    trades. Three of those allow 1 request per 5 s, so refreshes can start at most every
    5 s: ``ceil(duration / 5)`` of them fit in the window (the global 10/s never binds at
    ``4 + pages`` requests per 5 s)."""
    per_refresh = 4 + pages
    refreshes = math.ceil(duration_s / SLOW_WINDOW_S)
    requests = 1 + refreshes * per_refresh
    return Minimum(
        requests, duration_s / time_scale,
        f"{per_refresh} requests per refresh (accounts, summary, {pages} position pages, "
        f"orders, trades); 1 req/5 s on accounts, orders and trades -> at most "
        f"ceil({duration_s:g}/5) = {refreshes} refreshes in {duration_s:g} s "
        f"(+1 /iserver/accounts warm-up)",
        refreshes=refreshes,
    )


def socket_floor_s(messages: int) -> float:
    return paced_floor_s(messages, SOCKET_PER_S, 1.0)


def socket_quotes_minimum(symbols: int, time_scale: float = 1.0) -> Minimum:
    """TWS socket: 1 startApi + per symbol 1 reqContractDetails + 1 snapshot reqMktData."""
    messages = 1 + 2 * symbols
    return Minimum(
        messages, socket_floor_s(messages) / time_scale,
        f"1 startApi + {symbols} reqContractDetails + {symbols} reqMktData(snapshot) = "
        f"{messages} messages; at 50/s floor(({messages}-1)/50) s = "
        f"{socket_floor_s(messages):g} s",
    )


def socket_orders_minimum(orders: int, time_scale: float = 1.0) -> Minimum:
    """TWS socket asks no precautionary questions: 1 startApi + 1 placeOrder per order +
    1 reqGlobalCancel."""
    messages = 1 + orders + 1
    return Minimum(
        messages, socket_floor_s(messages) / time_scale,
        f"1 startApi + {orders} placeOrder + 1 reqGlobalCancel = {messages} messages; "
        f"floor(({messages}-1)/50) s = {socket_floor_s(messages):g} s",
    )
