"""ib_async on the socket side, against the simulator's fake TWS, used as its docs show.

The clock starts before ``connectAsync``: the start-up synchronisation ib_async sends
(positions, open orders, account updates, executions...) is work this client does and
counts against the same 50 messages/s. Messages are counted where ib_async frames them
(``Client.send``, observed, not changed). IBKR's answer to a pace violation is error 100;
the first one ends the run ("penalty" on the socket side means dropped messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from typing import Any

from ib_async import IB, Contract, LimitOrder, Stock

from .common import Outcome, Timer, finish, load_spec, start

_sent = 0


def _count_sends(ib: IB) -> None:
    client = ib.client
    original = client.send

    def counting(*fields: Any, **kw: Any) -> Any:
        global _sent
        _sent += 1
        return original(*fields, **kw)  # type: ignore[no-untyped-call]

    client.send = counting  # type: ignore[method-assign]


def _present(value: float) -> bool:
    return value is not None and not math.isnan(value) and value > 0


async def quotes(ib: IB, spec: dict[str, Any]) -> Outcome:
    contracts = [Stock(s, "SMART", "USD") for s in spec["symbols"]]
    await ib.qualifyContractsAsync(*contracts)
    tickers = await ib.reqTickersAsync(*contracts)
    quoted = sum(1 for t in tickers if _present(t.last) and _present(t.bid) and _present(t.ask))
    return Outcome(quoted == len(contracts), {"quoted": quoted, "wanted": len(contracts)})


async def orders(ib: IB, spec: dict[str, Any]) -> Outcome:
    trades = []
    for item in spec["orders"]:
        contract = Contract(conId=int(item["conid"]), secType="STK", exchange="SMART",
                            currency="USD")
        trades.append(ib.placeOrder(contract, LimitOrder("BUY", 1, float(item["price"]))))
    await _until(ib, lambda: all(t.orderStatus.status in ("Submitted", "PreSubmitted")
                                 for t in trades))
    answered = len(trades)
    ib.reqGlobalCancel()  # type: ignore[no-untyped-call]
    await _until(ib, lambda: all(t.orderStatus.status == "Cancelled" for t in trades))
    return Outcome(True, {"answered": answered})


async def _until(ib: IB, condition: Callable[[], bool]) -> None:
    """Wake on every order status event until ``condition`` holds."""
    done = asyncio.Event()

    def check(*_: Any) -> None:
        if condition():
            done.set()

    ib.orderStatusEvent += check
    try:
        check()
        await done.wait()
    finally:
        ib.orderStatusEvent -= check


WORKLOADS = {"quotes": quotes, "orders": orders}


async def main() -> None:
    spec = load_spec()
    ib = IB()
    _count_sends(ib)
    violation: list[int] = []
    timer: Timer = start()
    task = asyncio.current_task()

    def on_error(req_id: int, code: int, message: str, contract: Any) -> None:
        if code == 100 and not violation:
            violation.append(_sent)
            if task is not None:
                asyncio.get_running_loop().call_soon(task.cancel)

    ib.errorEvent += on_error
    try:
        await ib.connectAsync("127.0.0.1", int(spec["tws_port"]), clientId=1, timeout=20)
        outcome = await WORKLOADS[spec["workload"]](ib, spec)
    except asyncio.CancelledError:
        outcome = Outcome(False)
    except Exception as exc:
        outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
    outcome.detail["messages"] = _sent
    if violation:
        outcome.ok = False
        outcome.detail["violation_after"] = violation[0]
    finish(timer, outcome)
    ib.disconnect()


if __name__ == "__main__":
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(main())
