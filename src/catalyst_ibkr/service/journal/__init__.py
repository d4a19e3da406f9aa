"""The SQL journal: every fact that must survive a crash (signals, intents, fills, events)."""

from __future__ import annotations

from catalyst_ibkr.service.journal.database import JournalUnreadable, connect, migrate
from catalyst_ibkr.service.journal.store import Journal, StaleWrite

__all__ = ["Journal", "JournalUnreadable", "StaleWrite", "connect", "migrate"]
