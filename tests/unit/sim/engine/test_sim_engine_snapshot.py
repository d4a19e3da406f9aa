"""The persistent book (engine/snapshot.py): what a restart must keep, and refusing bad files."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sim_engine_env import AAPL, ACCOUNT, Env, new_env

from ibkr_sim.engine import EngineRejection
from ibkr_sim.engine.snapshot import PersistentBook, SnapshotError, load_file, save_file

MSFT = 272093


def busy(env: Env) -> None:
    """Filled, partly filled, cancelled and bracket orders, plus a market override."""
    env.pin(last="100.01", bid="100.00", ask="100.02")
    env.submit(quantity=100, coid="filled-1")
    env.run()
    env.submit(quantity=8000, coid="big-1")  # fills in slices at the touch
    env.run()
    gone = env.submit(order_type="LMT", limit_price="90.00", coid="cancel-1")
    env.engine.cancel(ACCOUNT, gone.order_id)
    env.submit(order_type="LMT", limit_price="99.00", quantity=50, coid="b-1")
    env.submit(side="SELL", order_type="LMT", limit_price="105.00", quantity=50, parent_coid="b-1")
    env.submit(side="SELL", order_type="STP", stop_price="95.00", quantity=50, parent_coid="b-1")
    env.submit(conid=MSFT, side="SELL", quantity=10, coid="short-1")
    env.run()


def restored(env: Env, path: Path) -> Env:
    save_file(env.engine, path)
    other = new_env()
    other.clock.advance((env.clock.now() - other.clock.now()).total_seconds())
    assert load_file(other.engine, path) is True
    return other


def views(env: Env) -> tuple[object, ...]:
    engine = env.engine
    return (
        engine.orders(),
        engine.executions(ACCOUNT),
        engine.positions(ACCOUNT),
        engine.account(ACCOUNT),
        env.market.pinned(),
    )


def test_busy_book_round_trips_and_keeps_trading_the_same_way(env: Env, tmp_path: Path) -> None:
    busy(env)
    statuses = {o.status for o in env.engine.orders()}
    assert {"Filled", "Submitted", "Cancelled", "PreSubmitted"} <= statuses
    big = env.engine.order_by_coid(ACCOUNT, "big-1")
    assert big is not None and 0 < big.filled_quantity < big.quantity  # really partial
    copy = restored(env, tmp_path / "book.json")
    assert views(copy) == views(env)
    # the restored book goes on exactly as the original: partial fills, the bracket, the stop
    env.clock.advance(1)
    copy.clock.advance(1)
    for engine_env in (env, copy):
        engine_env.pin(last="98.99", bid="98.98", ask="99.00")
        engine_env.run(5)
        engine_env.pin(last="94.00", bid="93.99", ask="94.01")
        engine_env.run(3)
    assert views(copy) == views(env)
    parent = copy.engine.order_by_coid(ACCOUNT, "b-1")
    assert parent is not None and parent.status == "Filled"
    children = [o for o in copy.engine.orders() if o.parent_order_id == parent.order_id]
    assert sorted(o.status for o in children) == ["Cancelled", "Filled"]


def test_coid_stays_registered_after_restore(env: Env, tmp_path: Path) -> None:
    busy(env)
    copy = restored(env, tmp_path / "book.json")
    with pytest.raises(EngineRejection, match="Local order ID=filled-1 is already registered"):
        copy.submit(coid="filled-1")
    with pytest.raises(EngineRejection, match="cancel-1 is already registered"):
        copy.submit(coid="cancel-1")
    copy.clock.advance(24 * 3600 + 60)
    assert copy.submit(coid="filled-1").status == "Submitted"  # the 24-hour window still ends


def test_order_and_execution_ids_are_never_reused(env: Env, tmp_path: Path) -> None:
    busy(env)
    old_orders = {o.order_id for o in env.engine.orders()}
    old_execs = {e.execution_id for e in env.engine.executions(ACCOUNT)}
    copy = restored(env, tmp_path / "book.json")
    copy.clock.advance(1)
    fresh = copy.submit(quantity=5, coid="after-restart")
    copy.run(3)  # the big order takes the touch first
    assert fresh.order_id > max(old_orders)
    after = copy.engine.executions(ACCOUNT)[len(old_execs):]
    assert any(e.order_id == fresh.order_id for e in after)
    assert not {e.execution_id for e in after} & old_execs
    # the counter part of the id ("0000000a." ...) keeps counting from where it was
    assert min(int(e.execution_id[:8], 16) for e in after) > max(
        int(i[:8], 16) for i in old_execs
    )
    assert len({e.execution_id for e in copy.engine.executions(ACCOUNT)}) == len(old_execs) + len(
        after
    )


def test_file_is_versioned_json_with_decimal_strings_and_utc_times(
    env: Env, tmp_path: Path
) -> None:
    busy(env)
    path = tmp_path / "book.json"
    save_file(env.engine, path)
    data = json.loads(path.read_text())
    assert data["format"] == "ibkr_sim.book" and data["version"] == 1
    assert isinstance(data["portfolio"]["cash"], str)
    Decimal(data["portfolio"]["cash"])
    assert data["orders"][0]["created_at"].endswith("+00:00")
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_missing_file_means_a_fresh_book(tmp_path: Path) -> None:
    env = new_env()
    assert load_file(env.engine, tmp_path / "none.json") is False
    assert env.engine.orders() == []


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not valid JSON"),
        ('{"hello": 1}', "not an ibkr_sim book file"),
        ('{"format": "ibkr_sim.book", "version": 99}', "format version 99"),
        ('{"format": "ibkr_sim.book", "version": 1, "account_id": "DU1234567"}', "damaged"),
    ],
)
def test_unusable_file_is_a_clear_error_that_changes_nothing(
    env: Env, tmp_path: Path, content: str, why: str
) -> None:
    env.submit(quantity=1, coid="kept")
    env.run()
    before = views(env)
    path = tmp_path / "book.json"
    path.write_text(content)
    with pytest.raises(SnapshotError) as info:
        load_file(env.engine, path)
    message = str(info.value)
    assert why in message and str(path) in message and f"Delete {path}" in message
    assert views(env) == before


def test_other_account_is_refused(env: Env, tmp_path: Path) -> None:
    busy(env)
    path = tmp_path / "book.json"
    save_file(env.engine, path)
    other = new_env(account_id="DU7654321")
    with pytest.raises(SnapshotError, match="holds account 'DU1234567'"):
        load_file(other.engine, path)


def test_persistent_book_saves_changes_and_restores_them(tmp_path: Path) -> None:
    path = tmp_path / "book.json"
    env = new_env()
    book = PersistentBook(env.engine, path, debounce_s=0)
    assert book.restored is False and not path.exists()
    env.submit(quantity=7, coid="p-1")
    env.run()
    book.maybe_save()
    env.pin(conid=AAPL, last="123.45")
    book.maybe_save()  # an override alone is a change worth saving
    again = new_env()
    again.clock.advance((env.clock.now() - again.clock.now()).total_seconds())
    assert PersistentBook(again.engine, path).restored is True
    assert views(again) == views(env)


def test_clock_never_goes_back_across_a_restart(env: Env, tmp_path: Path) -> None:
    """A book saved ahead of real time (a --time-scale run) moves the new clock up to it,
    else its orders would lie in the future and never fill."""
    env.clock.advance(3 * 3600)
    env.pin(last="100.01", bid="100.00", ask="100.02")
    working = env.submit(order_type="LMT", limit_price="99.00", quantity=5, coid="late")
    path = tmp_path / "book.json"
    save_file(env.engine, path)
    fresh = new_env()  # its clock is three hours behind the saved book
    load_file(fresh.engine, path)
    assert fresh.clock.now() == env.clock.now()
    fresh.pin(last="98.99", bid="98.98", ask="99.00")
    fresh.run()
    assert fresh.now_order(working).status == "Filled"
