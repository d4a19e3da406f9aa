"""Alerts: one message per condition, a recovery message, Slack's shape, failures contained."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from catalyst_ibkr.config.sections_ops import AlertsSettings
from catalyst_ibkr.service.alerts import Alert, Alerter, Severity
from ops_receivers import LoopbackServer, webhook_receiver


class Mono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def receiver() -> AsyncIterator[LoopbackServer]:
    server = await webhook_receiver().start()
    yield server
    await server.stop()


def settings(url: str, **kw: object) -> AlertsSettings:
    return AlertsSettings.model_validate({"webhook_url": url + "/hooks/T0KEN", **kw})


async def test_same_condition_is_sent_once_then_recovery_once(receiver: LoopbackServer) -> None:
    mono = Mono()
    alerter = Alerter(settings(receiver.url, dedupe_window_s=300), monotonic=mono)
    a = Alert("session", Severity.CRITICAL, "session lost", "expired")
    assert await alerter.raise_alert(a)
    mono.t += 10
    assert not await alerter.raise_alert(a)
    assert not await alerter.raise_alert(a)
    assert await alerter.resolve("session", "authenticated again")
    assert not await alerter.resolve("session")
    await alerter.aclose()
    kinds = [c.body["kind"] for c in receiver.calls]
    assert kinds == ["alert", "recovery"]
    assert receiver.calls[0].path == "/hooks/T0KEN"
    assert receiver.calls[0].body["key"] == "session"
    assert receiver.calls[0].body["severity"] == "critical"
    assert receiver.calls[1].body["title"] == "recovered: session lost"


async def test_a_condition_that_lasts_past_the_window_is_reminded(
    receiver: LoopbackServer,
) -> None:
    mono = Mono()
    alerter = Alerter(settings(receiver.url, dedupe_window_s=60), monotonic=mono)
    a = Alert("session", Severity.CRITICAL, "session lost")
    await alerter.raise_alert(a)
    mono.t += 61
    assert await alerter.raise_alert(a)
    await alerter.aclose()
    assert [c.body["kind"] for c in receiver.calls] == ["alert", "reminder"]


async def test_slack_body_is_text_only(receiver: LoopbackServer) -> None:
    alerter = Alerter(settings(receiver.url, slack=True))
    await alerter.raise_alert(Alert("k", Severity.WARNING, "gateway restarted", "by the watchdog"))
    await alerter.aclose()
    (call,) = receiver.calls
    assert set(call.body) == {"text"}
    assert "gateway restarted" in call.body["text"] and "by the watchdog" in call.body["text"]


async def test_recovery_not_announced_when_disabled(receiver: LoopbackServer) -> None:
    alerter = Alerter(settings(receiver.url, announce_recovery=False))
    await alerter.raise_alert(Alert("k", Severity.WARNING, "x"))
    assert not await alerter.resolve("k")
    await alerter.aclose()
    assert len(receiver.calls) == 1


async def test_webhook_down_is_logged_masked_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await webhook_receiver().start()
    url = server.url
    await server.stop()  # nothing listens there any more
    alerter = Alerter(settings(url, timeout_s=2))
    assert await alerter.raise_alert(Alert("k", Severity.CRITICAL, "x"))
    await alerter.aclose()
    assert "T0KEN" not in caplog.text
    assert "alert webhook" in caplog.text


async def test_webhook_error_status_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await webhook_receiver(status=500).start()
    alerter = Alerter(settings(server.url))
    await alerter.raise_alert(Alert("k", Severity.CRITICAL, "x"))
    await alerter.aclose()
    await server.stop()
    assert "HTTP 500" in caplog.text and "T0KEN" not in caplog.text


async def test_without_webhook_alerts_only_log_and_history() -> None:
    seen: list[str] = []
    alerter = Alerter(AlertsSettings(), on_send=lambda kind, a: seen.append(kind))
    await alerter.raise_alert(Alert("k", Severity.INFO, "x"))
    await alerter.resolve("k")
    assert seen == ["alert", "recovery"]
    assert [k for k, _ in alerter.history] == ["alert", "recovery"]


async def test_events_are_sent_once_per_window_and_never_recovered(
    receiver: LoopbackServer,
) -> None:
    mono = Mono()
    alerter = Alerter(settings(receiver.url, dedupe_window_s=60), monotonic=mono)
    event = Alert("oms:in_doubt", Severity.CRITICAL, "order left in doubt", "cOID=x")
    assert await alerter.notify(event)
    assert not await alerter.notify(event)
    mono.t += 61
    assert await alerter.notify(event)
    assert not await alerter.resolve("oms:in_doubt")
    await alerter.aclose()
    assert [c.body["kind"] for c in receiver.calls] == ["alert", "alert"]
    assert alerter.active == {}


async def test_service_alert_events_reach_the_webhook(receiver: LoopbackServer) -> None:
    import asyncio
    from datetime import UTC, datetime

    from catalyst_ibkr.service.views import ServiceEvent
    from catalyst_ibkr.service.watchdog.runtime import forward_service_alerts

    class FakeService:
        async def subscribe_events(self, last: int | None) -> AsyncIterator[ServiceEvent]:
            now = datetime.now(UTC)
            yield ServiceEvent(1, "fill", now, {"symbol": "AAPL"})
            yield ServiceEvent(2, "alert", now, {"alert": "in_doubt", "message": "order in doubt",
                                                  "coid": "c-1"})
            yield ServiceEvent(3, "alert", now, {"alert": "in_doubt", "message": "order in doubt",
                                                  "coid": "c-2"})
            await asyncio.Event().wait()  # a live stream never ends by itself

    alerter = Alerter(settings(receiver.url))
    task = asyncio.create_task(forward_service_alerts(FakeService(), alerter))
    for _ in range(100):
        if receiver.calls:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await alerter.aclose()
    assert [(c.body["key"], c.body["title"]) for c in receiver.calls] == [
        ("oms:in_doubt", "order in doubt")
    ]
    assert "coid=c-1" in receiver.calls[0].body["detail"]
