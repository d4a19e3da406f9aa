"""docs/operations.md stays true: every seed troubleshooting row is mapped, and the phases,
alert keys and settings it names exist in the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalyst_ibkr.config.sections_ops import AlertsSettings, WatchdogSettings
from catalyst_ibkr.service.watchdog import Phase
from catalyst_ibkr.service.watchdog.core import ESCALATION_ALERT, SESSION_ALERT, WEBSOCKET_ALERT

ROOT = Path(__file__).resolve().parents[3]
RUNBOOK = (ROOT / "docs" / "operations.md").read_text()
SEED_ROWS = ("401 Unauthorized", "429 Too Many Requests", "Gateway not responding",
             "2FA timeout", "Connection refused")


def troubleshooting_rows() -> dict[str, list[str]]:
    section = RUNBOOK.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| symptom") and "---" not in line:
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0].strip("*")] = cells
    return rows


def test_every_seed_row_is_mapped_to_shows_logs_does() -> None:
    rows = troubleshooting_rows()
    for issue in SEED_ROWS:
        assert issue in rows, f"the runbook lacks the seed's row {issue!r}"
        cells = rows[issue]
        assert len(cells) == 6 and all(cells[2:]), f"{issue}: every column must be filled"


@pytest.mark.shared
def test_seed_table_rows_are_all_in_the_runbook(shared_dir: Path) -> None:
    seed = (shared_dir / "seed" / "ibeam-plan.md").read_text()
    table = seed.split("## Troubleshooting", 1)[1].split("\n---", 1)[0]
    issues = [line.split("|")[1].strip() for line in table.splitlines()
              if line.startswith("|") and "---" not in line and "Issue" not in line]
    assert issues
    rows = troubleshooting_rows()
    for issue in issues:
        assert issue in rows


def test_phases_named_in_the_runbook_exist() -> None:
    ladder = RUNBOOK.split("## What the watchdog does", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([a-z_]+)` \|", ladder, re.M))
    assert named == {phase.value for phase in Phase} - {"starting"}


def test_alert_keys_and_settings_named_exist() -> None:
    alerts = RUNBOOK.split("## Alerts", 1)[1].split("\n## ", 1)[0]
    keys = set(re.findall(r"^\| `([a-z:<>_]+)` \|", alerts, re.M))
    assert {SESSION_ALERT, ESCALATION_ALERT, WEBSOCKET_ALERT, "interlock"} <= keys
    settings = set(re.findall(r"`([a-z_]+_s|[a-z_]+_url|docker_[a-z]+|take_over_competing)`",
                              RUNBOOK))
    known = set(WatchdogSettings.model_fields) | set(AlertsSettings.model_fields)
    # ttl_s is a signal field; restart_wait_s is the watchdog policy's (not configurable)
    unknown = settings - known - {"ttl_s", "restart_wait_s"}
    assert not unknown, f"the runbook names settings that do not exist: {unknown}"
