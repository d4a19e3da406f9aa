"""The CLI of interfaces.md ("CLI for people and scripts") against the simulator over real
loopback HTTPS: JSON shapes, exit codes, confirmation, risk before sending, questions, and
(in subprocesses) two processes sharing the pacing limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalyst_ibkr.cli.main import app
from ibkr_sim.universe import Universe
from sim_fixtures import RunningSim

ACCOUNT = "DU1234567"
ORDERS_PATH = rf"/iserver/account/{ACCOUNT}/orders$"


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Any]:
    """``cli(sim, *args, config=None)`` -> click Result; settings isolated per test."""
    runner = CliRunner()

    def run(sim: RunningSim, *args: str, config: str | None = None,
            scale: float = 50.0) -> Any:
        cfg = tmp_path / "catalyst-ibkr.toml"
        cfg.write_text(config or "")
        env = {
            "CATALYST_PACING_TIME_SCALE": str(scale),
            "CATALYST_PACING_STATE_DIR": str(tmp_path / "pacing"),
            "CATALYST_GATEWAY_PINS_FILE": str(tmp_path / "pins.json"),
            "IBEAM_URL": "",
        }
        ca = ["--ca", str(sim.ca_file)] if sim.ca_file is not None else []
        argv = ["--gateway", sim.base_url, "--config", str(cfg), *ca, *args]
        return runner.invoke(app, argv, env=env)

    return run


def doc(result: Any) -> Any:
    return json.loads(result.stdout)


def sim_orders(sim: RunningSim) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = sim.state()["orders"]
    return orders


def market(sim: RunningSim) -> None:
    sim.set_market("AAPL", bid="100.00", ask="100.02", last="100.01")


def test_quote_prints_the_documented_json(sim: RunningSim, cli: Callable[..., Any]) -> None:
    result = cli(sim, "--json", "quote", "AAPL", "msft")
    assert result.exit_code == 0, result.stderr
    rows = doc(result)
    assert [r["symbol"] for r in rows] == ["AAPL", "MSFT"]
    for row in rows:
        assert set(row) == {"symbol", "conid", "last", "bid", "ask", "time"}
        for key in ("last", "bid", "ask"):
            assert isinstance(row[key], str) and float(row[key]) > 0
        assert row["time"].endswith("Z")


def test_unknown_symbol_is_a_usage_error(sim: RunningSim, cli: Callable[..., Any]) -> None:
    result = cli(sim, "quote", "AAPL", "ZZZZQX")
    assert result.exit_code == 2
    assert "ZZZZQX" in result.stderr and "Nothing was quoted" in result.stderr


def test_buy_orders_modify_cancel_round_trip(sim: RunningSim, cli: Callable[..., Any]) -> None:
    market(sim)
    bought = cli(sim, "--json", "buy", "AAPL", "3", "--limit", "98.00", "--yes",
                 "--coid", "cli-test-1")
    assert bought.exit_code == 0, bought.stderr
    placed = doc(bought)
    assert set(placed) == {"order_id", "cOID", "status", "questions"}
    assert placed["cOID"] == "cli-test-1" and placed["status"] == "SUBMITTED"
    listed = cli(sim, "--json", "orders")
    assert listed.exit_code == 0, listed.stderr
    rows = doc(listed)
    assert set(rows[0]) == {"order_id", "cOID", "symbol", "side", "quantity",
                            "filled_quantity", "status"}
    row = next(r for r in rows if r["cOID"] == "cli-test-1")
    assert row["order_id"] == placed["order_id"] and row["side"] == "BUY"
    assert row["quantity"] in ("3", "3.0") and row["filled_quantity"] in ("0", "0.0")
    modified = cli(sim, "--json", "modify", placed["order_id"], "--limit", "98.50", "--yes")
    assert modified.exit_code == 0, modified.stderr
    cancelled = cli(sim, "--json", "cancel", placed["order_id"], "--yes")
    assert cancelled.exit_code == 0, cancelled.stderr
    found = doc(cli(sim, "--json", "orders", "--coid", "cli-test-1"))
    assert [r["status"] for r in found] in (["CANCELLED"], ["PENDING_CANCEL"])
    assert len([o for o in sim_orders(sim) if o["cOID"] == "cli-test-1"]) == 1


def test_fill_shows_in_positions_and_account(sim: RunningSim, cli: Callable[..., Any]) -> None:
    market(sim)
    assert cli(sim, "buy", "AAPL", "2", "--limit", "100.50", "--yes").exit_code == 0
    positions = doc(cli(sim, "--json", "positions"))
    assert set(positions[0]) == {"symbol", "conid", "quantity", "avg_cost", "market_value",
                                 "unrealized_pnl"}
    assert positions[0]["symbol"] == "AAPL" and positions[0]["quantity"] in ("2", "2.0")
    account = doc(cli(sim, "--json", "account"))
    assert account["account"] == ACCOUNT and float(account["net_liquidation"]) > 0


def test_dropped_order_answer_exits_3_with_the_coid_and_is_found_again(
    sim: RunningSim, cli: Callable[..., Any]
) -> None:
    market(sim)
    sim.fault("drop_after_accept", path=ORDERS_PATH)
    result = cli(sim, "--json", "buy", "AAPL", "1", "--limit", "98.00", "--yes",
                 "--coid", "cli-lost-1")
    assert result.exit_code == 3
    error = doc(result)["error"]
    assert error["cOID"] == "cli-lost-1"
    assert error["lookup"] == "catalyst-ibkr orders --coid cli-lost-1"
    assert "NOT resent" in result.stderr
    assert len([o for o in sim_orders(sim) if o["cOID"] == "cli-lost-1"]) == 1
    found = doc(cli(sim, "--json", "orders", "--coid", "cli-lost-1"))
    assert len(found) == 1 and found[0]["status"] == "SUBMITTED"


def test_500_after_the_post_also_exits_3(sim: RunningSim, cli: Callable[..., Any]) -> None:
    market(sim)
    sim.fault("http_error", path=ORDERS_PATH, status=500)
    result = cli(sim, "buy", "AAPL", "1", "--limit", "98.00", "--yes", "--coid", "cli-500")
    assert result.exit_code == 3
    assert "catalyst-ibkr orders --coid cli-500" in result.stderr
    assert doc(cli(sim, "--json", "orders", "--coid", "cli-500")) == []


def test_risk_denial_exits_1_and_sends_nothing(sim: RunningSim, cli: Callable[..., Any]) -> None:
    market(sim)
    result = cli(sim, "--json", "buy", "AAPL", "5000", "--yes")
    assert result.exit_code == 1
    assert "denied by risk" in result.stderr and "Nothing was sent" in result.stderr
    assert sim_orders(sim) == []


def test_declined_question_exits_1_quoting_ibkr(sim: RunningSim, cli: Callable[..., Any]) -> None:
    market(sim)
    config = "[questions]\nconfirm = []\nsuppress = false\n"
    result = cli(sim, "--json", "buy", "AAPL", "1", "--limit", "90.00", "--yes",
                 config=config)
    assert result.exit_code == 1, result.stderr
    error = doc(result)["error"]
    assert error["questions"][0]["id"] == "o163" and error["questions"][0]["answer"] == "no"
    assert "Percentage constraint" in error["message"]
    assert sim_orders(sim) == []


def test_state_change_without_a_terminal_needs_yes(
    sim: RunningSim, cli: Callable[..., Any]
) -> None:
    market(sim)
    result = cli(sim, "buy", "AAPL", "1", "--limit", "98.00")
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert sim_orders(sim) == []
    assert cli(sim, "cancel", "--all").exit_code == 2


def test_bad_quantity_is_a_usage_error(sim: RunningSim, cli: Callable[..., Any]) -> None:
    result = cli(sim, "buy", "AAPL", "0", "--yes")
    assert result.exit_code == 2 and "positive" in result.stderr
    result = cli(sim, "buy", "AAPL", "ten", "--yes")
    assert result.exit_code == 2 and "not a number" in result.stderr
    assert sim_orders(sim) == []


def test_unreachable_gateway_exits_4(tmp_path: Path) -> None:
    env = {"CATALYST_PACING_STATE_DIR": str(tmp_path), "IBEAM_URL": ""}
    result = CliRunner().invoke(app, ["--gateway", "http://127.0.0.1:9", "--json", "status"],
                                env=env)
    assert result.exit_code == 4
    assert json.loads(result.stdout)["error"]["exit_code"] == 4


def test_status_and_accounts(sim: RunningSim, cli: Callable[..., Any]) -> None:
    status = doc(cli(sim, "--json", "status"))
    assert status["ok"] is True and status["authenticated"] is True
    accounts = doc(cli(sim, "--json", "accounts"))
    assert accounts == [{"account": ACCOUNT, "selected": True, "paper": True}]


def test_expired_session_status_exits_4(sim: RunningSim, cli: Callable[..., Any]) -> None:
    sim.fault("competing_session")
    result = cli(sim, "--json", "status")
    assert result.exit_code == 4
    assert doc(result)["error"]["status"]["competing"] is True


def test_insecure_warns_on_every_run(sim: RunningSim, tmp_path: Path) -> None:
    env = {"CATALYST_PACING_TIME_SCALE": "50", "CATALYST_PACING_STATE_DIR": str(tmp_path),
           "CATALYST_GATEWAY_PINS_FILE": str(tmp_path / "pins.json"), "IBEAM_URL": ""}
    for _ in range(2):
        result = CliRunner().invoke(app, ["--gateway", sim.base_url, "--insecure", "status"],
                                    env=env)
        assert result.exit_code == 0, result.stderr
        assert "--insecure" in result.stderr and "NOT verified" in result.stderr


def test_history_prints_bars(sim: RunningSim, cli: Callable[..., Any]) -> None:
    result = cli(sim, "--json", "history", "AAPL", "--period", "1w", "--bar", "1d")
    assert result.exit_code == 0, result.stderr
    bars = doc(result)
    assert bars and set(bars[0]) == {"time", "open", "high", "low", "close", "volume"}


# -- real processes, real pacing ------------------------------------------------------------


def _process(sim: RunningSim, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CATALYST_PACING_TIME_SCALE": str(sim.options.time_scale),
        "CATALYST_PACING_STATE_DIR": str(tmp_path / "shared-pacing"),
        "CATALYST_GATEWAY_PINS_FILE": str(tmp_path / "pins.json"),
        "IBEAM_URL": "",
    }
    cfg = tmp_path / "empty.toml"
    cfg.write_text("")
    script = str(Path(sys.executable).parent / "catalyst-ibkr")
    argv = [script, "--gateway", sim.base_url,
            "--config", str(cfg), "--ca", str(sim.ca_file), "--json", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.sim_options(pacing=True, time_scale=10.0)
def test_two_cli_processes_back_to_back_cause_no_429(sim: RunningSim, tmp_path: Path) -> None:
    first = _process(sim, tmp_path, "orders")
    second = _process(sim, tmp_path, "orders")  # the same 1-per-5-s scope, at once
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == []
    assert sim.state()["stats"]["rate_limited_total"] == 0


@pytest.mark.sim_options(pacing=True, time_scale=10.0)
def test_quote_of_500_symbols_is_complete_with_no_429(sim: RunningSim, tmp_path: Path) -> None:
    symbols = sorted({i.symbol for i in Universe.load().all()})[:500]
    assert len(symbols) == 500
    result = _process(sim, tmp_path, "quote", *symbols)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)
    assert len(rows) == 500
    assert all(r["last"] and r["bid"] and r["ask"] for r in rows)
    assert sim.state()["stats"]["rate_limited_total"] == 0


def test_a_missing_ca_file_is_a_usage_error(sim: RunningSim, tmp_path: Path) -> None:
    env = {"CATALYST_PACING_STATE_DIR": str(tmp_path), "IBEAM_URL": ""}
    result = CliRunner().invoke(
        app, ["--gateway", sim.base_url, "--ca", str(tmp_path / "nope.pem"), "status"], env=env)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_cancel_all_and_a_lost_cancel_answer(sim: RunningSim, cli: Callable[..., Any]) -> None:
    market(sim)
    for i in range(2):
        assert cli(sim, "buy", "AAPL", "1", "--limit", f"9{7 + i}.00", "--yes").exit_code == 0
    order_id = doc(cli(sim, "--json", "orders"))[0]["order_id"]
    sim.fault("drop_after_accept", path=rf"/iserver/account/{ACCOUNT}/order/\d+$")
    lost = cli(sim, "--json", "cancel", order_id, "--yes")
    assert lost.exit_code == 3
    assert cli(sim, "--json", "cancel", "--all", "--yes").exit_code == 0
    statuses = {r["status"] for r in doc(cli(sim, "--json", "orders"))}
    assert statuses <= {"CANCELLED", "PENDING_CANCEL"}


def test_a_tws_gateway_serves_the_same_commands(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory(tws_port=0, tls=False)
    env = {"CATALYST_PACING_STATE_DIR": str(tmp_path), "IBEAM_URL": ""}
    cfg = tmp_path / "empty.toml"
    cfg.write_text("")
    result = CliRunner().invoke(
        app, ["--gateway", f"tws://127.0.0.1:{sim.tws_port}", "--client-id", "9",
              "--config", str(cfg), "--json", "status"], env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
