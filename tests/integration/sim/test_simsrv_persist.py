"""``--persist FILE`` over real sockets: stop the simulator, start it again, same account.

A real IBKR account keeps its positions, orders and executions between a client's sessions;
with ``persist_path`` the simulator must too, as every view (control API and Web API) shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from simsrv_helpers import ACCT, api, place, place_confirmed, warm

from sim_fixtures import RunningSim

VENV_BIN = Path(sys.executable).parent


def _views(sim: RunningSim) -> dict[str, Any]:
    """What a client can see of the account (without the clock and the request counters)."""
    state = sim.state()
    with api(sim) as c:
        warm(c)
        trades = c.get("/iserver/account/trades").json()
        positions = c.get(f"/portfolio/{ACCT}/positions/0").json()
    return {
        "orders": state["orders"],
        "positions": state["positions"],
        "trades": sorted(trades, key=lambda t: t["execution_id"]),
        "portfolio": sorted((p["conid"], p["position"], p["avgCost"]) for p in positions),
    }


def _trade(sim: RunningSim) -> None:
    sim.set_market("AAPL", last="100.00")
    sim.set_market("MSFT", last="400.00")
    with api(sim) as c:
        warm(c)
        place_confirmed(c, orderType="MKT", quantity=30, cOID="p-filled")
        place_confirmed(c, conid=272093, side="SELL", orderType="MKT", quantity=5,
                        cOID="p-short")
        place_confirmed(c, orderType="LMT", price=99.5, quantity=10, cOID="p-working")
        _, body = place_confirmed(c, orderType="LMT", price=99.4, quantity=10,
                                  cOID="p-cancelled")
        gone = body[0]["order_id"]
        assert c.delete(f"/iserver/account/{ACCT}/order/{gone}").status_code == 200


def test_book_survives_a_restart_in_every_view(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    book = tmp_path / "book.json"
    first = sim_factory(persist_path=book)
    _trade(first)
    before = _views(first)
    statuses = {o["cOID"]: o["status"] for o in before["orders"]}
    assert statuses == {"p-filled": "Filled", "p-short": "Filled", "p-working": "Submitted",
                        "p-cancelled": "Cancelled"}
    assert len(before["trades"]) >= 2 and len(before["portfolio"]) == 2
    first.threaded.stop()

    second = sim_factory(persist_path=book)
    assert second.sim_state.book_file is not None and second.sim_state.book_file.restored
    assert _views(second) == before
    with api(second) as c:
        warm(c)
        again = place(c, orderType="MKT", quantity=1, cOID="p-filled")
        assert again.json() == {"error": "Order couldn't be submitted: Local order ID=p-filled "
                                         "is already registered."}
        _, body = place_confirmed(c, orderType="MKT", quantity=1, cOID="p-new")
    new_id = int(body[0]["order_id"])
    assert new_id > max(o["order_id"] for o in before["orders"])
    # the working limit order kept working: it fills when the market comes to it
    second.set_market("AAPL", last="99.40")
    orders = {o["cOID"]: o for o in second.state()["orders"]}
    assert orders["p-working"]["status"] == "Filled"


def test_reset_clears_the_persisted_book(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    book = tmp_path / "book.json"
    first = sim_factory(persist_path=book)
    _trade(first)
    first.reset()
    first.threaded.stop()
    second = sim_factory(persist_path=book)
    assert second.state()["orders"] == [] and second.state()["positions"] == []


def test_default_sim_does_not_persist(sim: RunningSim) -> None:
    assert sim.options.persist_path is None and sim.sim_state.book_file is None


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "ibkr_sim"], [str(VENV_BIN / "catalyst-ibkr"), "sim"]],
    ids=["python-m-ibkr_sim", "catalyst-ibkr-sim"],
)
def test_unusable_book_file_is_a_clear_startup_error(tmp_path: Path, command: list[str]) -> None:
    book = tmp_path / "book.json"
    book.write_text('{"format": "ibkr_sim.book", "version": 1, "account_id": "DU1234567"')
    result = subprocess.run(
        [*command, "--port", "0", "--no-tls", "--persist", str(book)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"cannot restore the simulator's book from {book}" in result.stderr
    assert f"Delete {book}" in result.stderr
