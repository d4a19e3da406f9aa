"""Process exit codes: the contract scripts rely on (interfaces.md, the CLI section)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """What a ``catalyst-ibkr`` process tells its caller."""

    #: The command did what was asked.
    DONE = 0
    #: Rejected by risk or by IBKR (reason printed), or declined at the confirmation prompt.
    REJECTED = 1
    #: Bad usage or configuration; nothing was done.
    USAGE_OR_CONFIG = 2
    #: An order request's outcome is unknown: the cOID and the lookup command are printed;
    #: it is never retried blindly.
    OUTCOME_UNKNOWN = 3
    #: The gateway is unreachable or its session is not authenticated.
    GATEWAY_UNAVAILABLE = 4
