"""The event stream does not skip an id that is allocated but not yet committed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from catalyst_ibkr.service.events import EventNotifier, stream_events
from catalyst_ibkr.service.journal import Journal, connect, migrate
from catalyst_ibkr.service.journal import schema as t
from oms_harness import Harness

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _put(journal: Journal, event_id: int) -> None:
    with journal.engine.begin() as conn:
        conn.execute(insert(t.service_events).values(id=event_id, at=NOW, kind="order",
                                                     data="{}"))


async def test_a_hole_is_waited_for_then_filled_in_order(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'j.db'}")
    migrate(engine)
    journal = Journal(engine)
    notifier = EventNotifier()
    _put(journal, 1)
    _put(journal, 3)  # 2 is "allocated by another process, not committed yet"
    stream = stream_events(journal, notifier, 0, poll_s=0.01, gap_grace_s=5.0)
    assert (await stream.__anext__()).id == 1
    waiting = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # not past the hole
    _put(journal, 2)
    notifier.notify()
    assert (await asyncio.wait_for(waiting, 2)).id == 2
    assert (await stream.__anext__()).id == 3
    await stream.aclose()
    engine.dispose()


async def test_a_hole_that_never_fills_is_passed_after_the_grace(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'j.db'}")
    migrate(engine)
    journal = Journal(engine)
    _put(journal, 1)
    _put(journal, 3)  # 2 was rolled back
    stream = stream_events(journal, EventNotifier(), 0, poll_s=0.01, gap_grace_s=0.05)
    ids = [(await stream.__anext__()).id, (await asyncio.wait_for(stream.__anext__(), 2)).id]
    await stream.aclose()
    engine.dispose()
    assert ids == [1, 3]


async def test_a_kind_filtered_stream_yields_only_those_kinds_and_still_waits_at_a_hole(
    tmp_path: Path,
) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'j.db'}")
    migrate(engine)
    journal = Journal(engine)
    notifier = EventNotifier()
    with journal.engine.begin() as conn:
        for event_id, kind in ((1, "signal"), (2, "alert"), (3, "signal"), (5, "alert")):
            conn.execute(insert(t.service_events).values(
                id=event_id, at=NOW, kind=kind, data=f'{{"n": {event_id}}}'))
    stream = stream_events(journal, notifier, 0, poll_s=0.01, gap_grace_s=5.0,
                           kinds=frozenset({"alert"}), coalesce_s=0.01)
    first = await stream.__anext__()
    assert (first.id, first.kind, first.data) == (2, "alert", {"n": 2})
    waiting = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # 4 may still commit (another process): not passed yet
    with journal.engine.begin() as conn:
        conn.execute(insert(t.service_events).values(id=4, at=NOW, kind="alert",
                                                     data='{"n": 4}'))
    notifier.notify()
    assert (await asyncio.wait_for(waiting, 2)).data == {"n": 4}
    assert (await stream.__anext__()).id == 5
    await stream.aclose()
    engine.dispose()


async def test_the_service_alert_stream_skips_signal_events_and_delivers_alerts(
    harness: Harness,
) -> None:
    svc = await harness.service()
    alerts = svc.subscribe_alerts()
    waiting = asyncio.ensure_future(alerts.__anext__())
    for i in range(20):
        await harness.submit(svc, f"noise-{i}")
    svc.oms.ctx.alert("test_alert", "something to wake a person for")
    event = await asyncio.wait_for(waiting, 5)
    assert event.kind == "alert" and event.data["alert"] == "test_alert"
    await alerts.aclose()
