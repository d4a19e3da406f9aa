"""The gateway's login state as IBeam and a client see it: a small pure state machine.

Two tiers, as on the real Client Portal Gateway (cpapi.md §2): a *portal* (SSO) session that
any call needs, and a *brokerage* session that ``/iserver/*`` needs.  Everything is driven by
the simulated clock, so idle expiry, the competing-session grace, the daily reset and the
restart/re-login window all shrink with ``--time-scale``.

Nothing here does I/O.  The web layer calls :meth:`SessionMachine.observe` before every
request (to apply timers that fell due), :meth:`touch` for activity, and reads
:meth:`auth_status` for the JSON it returns.  A simulated IBeam logs the gateway in again
``relogin_s`` after the portal session is lost (restart, logout), as the real container would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

__all__ = ["Clock", "SessionMachine", "SessionSnapshot"]

SERVER_INFO = {"serverName": "SimGW00001", "serverVersion": "Build 10.45.1a (ibkr_sim)"}
MAC = "02:00:00:5E:10:01"
HARDWARE_INFO = "51a0b1c2|02:00:00:5E:10:01"
USER_ID = 123456789
USER_NAME = "simuser1"


class Clock(Protocol):
    """The part of ``SimClock`` the session machine needs."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class SessionSnapshot:
    """An immutable view of the flags, for tests and ``/sim/state``."""

    portal: bool
    authenticated: bool
    connected: bool
    competing: bool
    session_id: str | None
    generation: int


class SessionMachine:
    """State: portal session, brokerage session, competing flag, timers.

    ``generation`` increases whenever a new brokerage session begins, so per-session state
    kept elsewhere (snapshot pre-flight, the accounts warm-up, live-orders priming, question
    suppression) is simply keyed by it and forgotten on a new session.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        idle_timeout_s: float = 360.0,
        relogin_s: float = 5.0,
        competing_grace_s: float = 10.0,
        daily_reset: time | None = None,
    ) -> None:
        self._clock = clock
        self.idle_timeout_s = idle_timeout_s
        self.relogin_s = relogin_s
        self.competing_grace_s = competing_grace_s
        self.daily_reset = daily_reset
        self.reset()

    # ----------------------------------------------------------------- lifecycle
    def reset(self) -> None:
        """Back to the start state: logged in by IBeam, brokerage session up."""
        self.portal = True
        self.authenticated = True
        self.connected = True
        self.competing = False
        self.message = ""
        self.generation = 0
        self.session_id = secrets.token_hex(16)
        self.sso_started = self._clock.monotonic()
        self.last_activity = self._clock.monotonic()
        self.auth_time = self._clock.now()
        self.relogin_at: float | None = None
        self.competing_since: float | None = None
        self.next_daily_reset = self._next_reset_after(self._clock.now())
        self._new_brokerage_session()

    def _new_brokerage_session(self) -> None:
        self.generation += 1
        self.authenticated = True
        self.connected = True
        self.competing = False
        self.competing_since = None
        self.message = ""

    def _log_in(self) -> None:
        """What IBeam's successful login leaves behind: new SSO + brokerage session."""
        self.portal = True
        self.session_id = secrets.token_hex(16)
        self.sso_started = self._clock.monotonic()
        self.last_activity = self._clock.monotonic()
        self.auth_time = self._clock.now()
        self.relogin_at = None
        self._new_brokerage_session()

    def _lose_portal(self) -> None:
        self.portal = False
        self.authenticated = False
        self.connected = False
        self.competing = False
        self.competing_since = None
        self.session_id = secrets.token_hex(16)
        self.relogin_at = self._clock.monotonic() + self.relogin_s

    def _lose_brokerage(self, message: str = "") -> None:
        self.authenticated = False
        self.competing = False
        self.competing_since = None
        self.message = message

    # ----------------------------------------------------------------- timers
    def observe(self) -> None:
        """Apply every timer that fell due since the last call (idempotent)."""
        mono = self._clock.monotonic()
        if not self.portal:
            if self.relogin_at is not None and mono >= self.relogin_at:
                self._log_in()
            return
        if self.authenticated and mono - self.last_activity > self.idle_timeout_s:
            self._lose_brokerage()
        if (
            self.competing
            and self.competing_since is not None
            and mono - self.competing_since >= self.competing_grace_s
        ):
            self.authenticated = False
        if self.next_daily_reset is not None and self._clock.now() >= self.next_daily_reset:
            self.inject_daily_reset()

    def _next_reset_after(self, now: datetime) -> datetime | None:
        if self.daily_reset is None:
            return None
        candidate = datetime.combine(now.date(), self.daily_reset, tzinfo=now.tzinfo)
        if candidate <= now:
            candidate += timedelta(days=1)
        return candidate

    def touch(self) -> None:
        """Any request keeps the session alive (the gateway resets its idle timer)."""
        self.last_activity = self._clock.monotonic()

    # ----------------------------------------------------------------- injected events
    def inject_expiry(self) -> None:
        """Brokerage session timed out; the portal session survives (``ssodh/init`` fixes it)."""
        if self.portal:
            self._lose_brokerage()

    def inject_competing(self) -> None:
        """Another platform took the brokerage session; ``authenticated`` drops after a grace."""
        if self.portal and self.authenticated:
            self.competing = True
            self.competing_since = self._clock.monotonic()

    def inject_daily_reset(self) -> None:
        """IBKR's nightly reset: the brokerage session ends and the session id changes."""
        self.next_daily_reset = self._next_reset_after(self._clock.now())
        if self.portal:
            self._lose_brokerage()
            self.session_id = secrets.token_hex(16)

    def inject_restart(self, relogin_s: float | None = None) -> None:
        """Gateway restart: all sessions lost until IBeam logs in again after ``relogin_s``."""
        self._lose_portal()
        if relogin_s is not None:
            self.relogin_at = self._clock.monotonic() + relogin_s

    # ----------------------------------------------------------------- client actions
    def logout(self) -> None:
        self._lose_portal()

    def ssodh_init(self, *, compete: bool) -> bool:
        """Open a brokerage session on top of the portal one; False without a portal session."""
        if not self.portal:
            return False
        if self.competing and not compete:
            return True
        if self.authenticated and not self.competing:
            return True  # already initialised: keep the session (and what it remembers)
        self._new_brokerage_session()
        return True

    def reauthenticate(self) -> bool:
        """Deprecated ``/iserver/reauthenticate``: works only while the SSO session exists."""
        if not self.portal:
            return False
        if not self.authenticated or self.competing:
            self._new_brokerage_session()
        return True

    # ----------------------------------------------------------------- views
    @property
    def brokerage_ok(self) -> bool:
        return self.portal and self.authenticated

    def snapshot(self) -> SessionSnapshot:
        return SessionSnapshot(
            portal=self.portal,
            authenticated=self.authenticated,
            connected=self.connected,
            competing=self.competing,
            session_id=self.session_id if self.portal else None,
            generation=self.generation,
        )

    def auth_status(self) -> dict[str, Any]:
        """The body of ``/iserver/auth/status`` (cpapi.md §2.1)."""
        if not self.portal:
            return {
                "authenticated": False,
                "established": False,
                "competing": False,
                "connected": False,
                "MAC": None,
            }
        return {
            "authenticated": self.authenticated,
            "established": self.authenticated,
            "competing": self.competing,
            "connected": self.connected,
            "message": self.message,
            "MAC": MAC,
            "serverInfo": dict(SERVER_INFO),
            "hardware_info": HARDWARE_INFO,
            "fail": "",
        }

    def sso_expires_ms(self) -> int:
        """Milliseconds until the SSO session would lapse without traffic (sliding)."""
        left = self.idle_timeout_s - (self._clock.monotonic() - self.last_activity)
        return max(0, int(left * 1000))

    def tickle(self) -> dict[str, Any]:
        """The body of ``/tickle`` (cpapi.md §2.2); the caller checks ``portal`` first."""
        status = self.auth_status()
        status.pop("fail", None)
        return {
            "session": self.session_id,
            "ssoExpires": self.sso_expires_ms(),
            "collission": self.competing,
            "userId": USER_ID,
            "hmds": {"error": "no bridge"},
            "iserver": {"authStatus": status},
        }

    def sso_validate(self) -> dict[str, Any]:
        """The body of ``/sso/validate`` for a paper login (``LOGIN_TYPE`` 2)."""
        now_ms = int(self._clock.now().timestamp() * 1000)
        return {
            "USER_ID": USER_ID,
            "USER_NAME": USER_NAME,
            "RESULT": True,
            "AUTH_TIME": int(self.auth_time.timestamp() * 1000),
            "SF_ENABLED": False,
            "IS_FREE_TRIAL": False,
            "CREDENTIAL": USER_NAME,
            "IP": "127.0.0.1",
            "EXPIRES": self.sso_expires_ms(),
            "QUALIFIED_FOR_MOBILE_AUTH": None,
            "LANDING_APP": "UNIVERSAL",
            "IS_MASTER": False,
            "lastAccessed": now_ms,
            "LOGIN_TYPE": 2,
            "PAPER_USER_NAME": USER_NAME,
            "features": {"env": "PROD", "wlms": True, "realtime": True, "bond": False,
                         "optionChains": False, "calendar": True, "newMf": False},
            "region": "NJ",
        }
