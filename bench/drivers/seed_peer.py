"""The user's seed ``IBKRClient`` (../shared/seed/ibeam-plan.md), extracted and run UNMODIFIED.

Only its own methods are used, with ``requests`` as it ships. It has no pacing; it also has
no method for trades or for positions beyond page 0, so its dashboard refresh is what its
methods cover (stated in the report). ``REQUESTS_CA_BUNDLE`` (set by the harness) makes
``requests`` verify the simulator's certificate despite the seed's ``verify = False``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from .common import QUOTE_FIELDS, Outcome, finish, load_spec, start, wanted_fields

FIRST_LINE = "# /opt/catalyst/services/ibkr_client/ibkr_client.py"


def extract(plan: Path, into: Path) -> ModuleType:
    """The ``IBKRClient`` code block of the plan, as an importable module."""
    for match in re.finditer(r"```python\n(.*?)```", plan.read_text("utf-8"), re.S):
        if match.group(1).lstrip().startswith(FIRST_LINE):
            path = into / "ibkr_client.py"
            path.write_text(match.group(1), "utf-8")
            module_spec = importlib.util.spec_from_file_location("ibkr_client", path)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            sys.modules["ibkr_client"] = module
            module_spec.loader.exec_module(module)
            return module
    raise LookupError(f"no IBKRClient block in {plan}")


def quotes(client: Any, spec: dict[str, Any]) -> Outcome:
    symbols: list[str] = spec["symbols"]
    client.get_accounts()
    conids = []
    for symbol in symbols:
        found = client.search_contract(symbol)
        if isinstance(found, list) and found:
            conids.append(found[0]["conid"])
    quoted = 0
    for i in range(0, len(conids), 100):
        chunk = conids[i : i + 100]
        client.get_market_data(chunk, QUOTE_FIELDS)  # pre-flight
        rows = client.get_market_data(chunk, QUOTE_FIELDS)
        quoted += sum(1 for r in rows if isinstance(r, dict) and wanted_fields(r))
    return Outcome(quoted == len(symbols), {"quoted": quoted, "wanted": len(symbols)})


def orders(client: Any, spec: dict[str, Any]) -> Outcome:
    client.get_accounts()
    answered = 0
    for item in spec["orders"]:
        answer = client.place_order(int(item["conid"]), "BUY", 1, "LMT", float(item["price"]))
        for _ in range(10):
            if isinstance(answer, list) and answer and "id" in answer[0]:
                answer = client.confirm_order(answer[0]["id"])
            else:
                break
        if isinstance(answer, list) and answer and answer[0].get("order_id"):
            answered += 1
    client.cancel_order("-1")
    return Outcome(answered == len(spec["orders"]), {"answered": answered})


def dashboard(client: Any, spec: dict[str, Any]) -> Outcome:
    ends = time.monotonic() + float(spec["duration_s"])
    refreshes = 0
    while time.monotonic() < ends:
        client.get_accounts()
        client.get_account_summary()
        client.get_positions()
        client.get_orders()
        if time.monotonic() <= ends:
            refreshes += 1
    return Outcome(refreshes > 0, {"refreshes": refreshes,
                                   "note": "no trades or positions page > 0 in the seed"})


WORKLOADS = {"quotes": quotes, "orders": orders, "dashboard": dashboard}


def main() -> None:
    spec = load_spec()
    module = extract(Path(spec["seed_plan"]), Path.cwd())
    client = module.IBKRClient(spec["base_url"])
    timer = start()
    try:
        outcome = WORKLOADS[spec["workload"]](client, spec)
    except Exception as exc:
        outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
    finish(timer, outcome)


if __name__ == "__main__":
    main()
