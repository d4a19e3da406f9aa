"""``GET /iserver/marketdata/history`` (cpapi.md §5.3): bars from the market's price process.

The gateway serves at most 5 history requests at once; a sixth concurrent one gets 429.
Each request here takes ``history_latency_s`` simulated seconds (default 0.25, divided by
the time scale) so the limit is observable, as on the real gateway where charts take a moment.
The limit is pacing, so ``--no-pacing`` switches it off like the other rate limits.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ibkr_sim.engine.history import HistoryError, bars, parse_bar, parse_period
from ibkr_sim.state import SimState
from ibkr_sim.web.errors import ApiError, json_response
from ibkr_sim.web.guards import need_warm
from ibkr_sim.web.routes_contracts import parse_conid
from ibkr_sim.web.routing import state_of

__all__ = ["HISTORY_CONCURRENCY", "ROUTES"]

HISTORY_CONCURRENCY = 5
PRICE_FACTOR = 100
_IN_FLIGHT: weakref.WeakKeyDictionary[SimState, list[int]] = weakref.WeakKeyDictionary()
"""History requests being served, per simulator (a one-element list: a mutable counter)."""


def _start_time(text: str | None, state: SimState) -> datetime:
    if not text:
        return state.clock.now()
    try:
        return datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ApiError(400, f"startTime {text!r} must look like 20240105-16:00:00 (UTC)") from exc


def _flag(text: str | None, name: str) -> bool:
    if text is None or text == "":
        return False
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ApiError(400, f"{name} must be true or false, got {text!r}")
    return lowered == "true"


def _extreme(value: float, volume: int, minutes: int) -> str:
    return f"{round(value * PRICE_FACTOR)}/{volume / 100:.2f}/{minutes}"


def history_body(state: SimState, query: Any) -> dict[str, Any]:
    raw_conid = query.get("conid")
    if raw_conid is None:
        raise ApiError(400, "conid is required, e.g. ?conid=265598&period=1d&bar=5min")
    conid = parse_conid(raw_conid, "conid")
    inst = state.instrument(conid)
    if inst is None:
        raise ApiError(400, f"No data. (unknown conid {conid})")
    source = query.get("source", "trades")
    if source.lower() not in ("trades", "midpoint", "bid_ask"):
        raise ApiError(400, f"source {source!r} must be Trades, Midpoint or Bid_Ask")
    period_text = query.get("period", "1w")
    bar_text = query.get("bar", "1d" if period_text.lower().endswith(("w", "m", "y")) else "5min")
    outside_rth = _flag(query.get("outsideRth"), "outsideRth")
    end = _start_time(query.get("startTime"), state)
    try:
        period_s, bar_s = parse_period(period_text), parse_bar(bar_text)
        found = bars(
            state.market, conid, seed=state.options.seed, end=end, period_s=period_s,
            bar_s=bar_s, regular_only=not outside_rth,
        )
    except HistoryError as exc:
        raise ApiError(400, str(exc)) from exc
    data = [
        {"o": float(b.open), "c": float(b.close), "h": float(b.high), "l": float(b.low),
         "v": float(b.volume), "t": int(b.time.timestamp() * 1000)}
        for b in found
    ]
    body: dict[str, Any] = {
        "serverId": str(10_000 + conid % 90_000), "symbol": inst.symbol,
        "text": inst.name.upper(), "priceFactor": PRICE_FACTOR,
        "startTime": found[0].time.strftime("%Y%m%d-%H:%M:%S") if found else "",
        "timePeriod": period_text, "barLength": bar_s, "mdAvailability": "S",
        "mktDataDelay": 0, "outsideRth": outside_rth, "volumeFactor": 1,
        "priceDisplayRule": 1, "priceDisplayValue": "2", "negativeCapable": False,
        "messageVersion": 2, "data": data, "points": max(0, len(data) - 1), "travelTime": 0,
    }
    if found:
        high = max(found, key=lambda b: b.high)
        low = min(found, key=lambda b: b.low)
        total = sum(b.volume for b in found)
        first = found[0].time
        body["high"] = _extreme(float(high.high), total,
                                int((high.time - first).total_seconds() // 60))
        body["low"] = _extreme(float(low.low), total, int((low.time - first).total_seconds() // 60))
    return body


async def history(request: web.Request) -> web.Response:
    state = state_of(request)
    need_warm(state)
    in_flight = _IN_FLIGHT.setdefault(state, [0])
    if state.pacer.enabled and in_flight[0] >= HISTORY_CONCURRENCY:
        state.pacer.count_rejection(request.remote or "unknown")
        return json_response(
            {"error": "Too many history charts requests, please try again later."}, 429
        )
    in_flight[0] += 1
    try:
        body = history_body(state, request.query)
        await asyncio.sleep(state.options.history_latency_s / state.options.time_scale)
    finally:
        in_flight[0] -= 1
    body["travelTime"] = int(state.options.history_latency_s * 1000)
    return json_response(body)


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/iserver/marketdata/history", history),
]
