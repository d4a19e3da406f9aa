"""ibind (PyPI ``ibind``), used as its README and docstrings show, nothing patched.

TLS is verified against the simulator's certificate through ibind's ``cacert`` option.
ibind has no request pacing of its own, so it is run as a user would write the loop; the
harness stops it at its first 429.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ibind import (  # type: ignore[import-untyped]
    IbkrClient,
    OrderRequest,
    QuestionType,
    StockQuery,
)

from .common import QUOTE_FIELDS, Outcome, finish, load_spec, start, wanted_fields

ANSWERS = {
    QuestionType.PRICE_PERCENTAGE_CONSTRAINT: True,
    QuestionType.MANDATORY_CAP_PRICE: True,
    QuestionType.MISSING_MARKET_DATA: True,
}


def quotes(client: IbkrClient, spec: dict[str, Any]) -> Outcome:
    symbols: list[str] = spec["symbols"]
    conids_by_symbol = client.stock_conid_by_symbol(
        [StockQuery(s) for s in symbols]
    ).data
    conids = [str(c) for c in conids_by_symbol.values()]
    client.receive_brokerage_accounts()
    quoted = 0
    for i in range(0, len(conids), 100):
        chunk = conids[i : i + 100]
        client.live_marketdata_snapshot(chunk, QUOTE_FIELDS)  # pre-flight, as ibind documents
        rows = client.live_marketdata_snapshot(chunk, QUOTE_FIELDS).data
        quoted += sum(1 for r in rows if wanted_fields(r))
    return Outcome(quoted == len(symbols), {"quoted": quoted, "wanted": len(symbols)})


def orders(client: IbkrClient, spec: dict[str, Any]) -> Outcome:
    client.receive_brokerage_accounts()
    answered = 0
    for item in spec["orders"]:
        request = OrderRequest(conid=int(item["conid"]), side="BUY", quantity=1,
                               order_type="LMT", price=float(item["price"]),
                               acct_id=spec["account"], coid=f"ibind-{uuid.uuid4().hex[:16]}",
                               tif="DAY")
        placed = client.place_order(request, ANSWERS).data
        first = placed[0] if isinstance(placed, list) and placed else placed
        if isinstance(first, dict) and first.get("order_id"):
            answered += 1
    client.cancel_order("-1")
    return Outcome(answered == len(spec["orders"]), {"answered": answered})


def dashboard(client: IbkrClient, spec: dict[str, Any]) -> Outcome:
    ends = time.monotonic() + float(spec["duration_s"])
    client.receive_brokerage_accounts()
    refreshes = 0
    while time.monotonic() < ends:
        client.portfolio_accounts()
        client.portfolio_summary()
        page = 0
        while len(client.positions(page=page).data) == 100:
            page += 1
        client.live_orders()
        client.trades()
        if time.monotonic() <= ends:
            refreshes += 1
    return Outcome(refreshes > 0, {"refreshes": refreshes})


WORKLOADS = {"quotes": quotes, "orders": orders, "dashboard": dashboard}


def main() -> None:
    spec = load_spec()
    client = IbkrClient(url=spec["api_url"] + "/", account_id=spec["account"],
                        cacert=spec["ca_file"], timeout=10, auto_register_shutdown=False,
                        use_session=True)
    timer = start()
    try:
        outcome = WORKLOADS[spec["workload"]](client, spec)
    except Exception as exc:
        outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
    finish(timer, outcome)
    client.close()


if __name__ == "__main__":
    main()
