"""`OutageHold`: the broker-outage hold, separate from the operator's trading state.

interfaces.md: "A broker outage is a separate, self-clearing hold: nothing is sent while it
lasts; it clears after reconnect and reconciliation." Two details make it safe:

- it starts ACTIVE: after a (re)start nothing is sent until the first reconciliation has
  aligned the journal with the broker (the startup barrier, reliability D37);
- a reconciliation only clears it if it BEGAN after the latest reconnect. A reconcile that
  was already running when the session dropped saw a world that may have changed, so the
  service asks for an `epoch` when it starts reconciling and hands it back when done; a
  stale epoch clears nothing.

It never touches the operator state (ACTIVE / REDUCING / HALTED): an outage that clears by
itself must not silently undo, or impose, a person's decision.
"""

from __future__ import annotations

__all__ = ["OutageHold"]


class OutageHold:
    def __init__(self) -> None:
        self._session_ok = False
        self._epoch = 0
        self._reason: str | None = "starting: broker session not yet confirmed and reconciled"

    @property
    def reason(self) -> str | None:
        """Why nothing may be sent now (pass to RiskContext.broker_hold_reason); None = clear."""
        return self._reason

    @property
    def active(self) -> bool:
        return self._reason is not None

    @property
    def epoch(self) -> int:
        """Take this when a reconciliation starts; give it back to `reconciled()`."""
        return self._epoch

    def session_lost(self, detail: str) -> None:
        """Disconnected, unauthenticated, competing, daily reset...: hold from now on."""
        self._session_ok = False
        self._epoch += 1
        self._reason = f"broker session lost: {detail}"

    def session_restored(self) -> int:
        """The session is usable again; still held until a reconciliation started now ends.

        Returns the epoch to reconcile under.
        """
        if not self._session_ok:
            self._session_ok = True
            self._epoch += 1
            self._reason = "broker session back; reconciling before sending"
        return self._epoch

    def reconciled(self, epoch: int) -> bool:
        """A reconciliation begun at `epoch` finished; True when that cleared the hold."""
        if not self._session_ok or epoch != self._epoch:
            return False
        self._reason = None
        return True
