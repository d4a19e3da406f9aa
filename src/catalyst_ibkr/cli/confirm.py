"""Confirmation of state-changing commands (orders, cancels, kill).

On a terminal the user is asked (default: no). Without one, nobody can answer, so the command
requires ``--yes``; guessing "yes" for a script would place orders nobody confirmed, and
guessing "no" would fail silently. The prompt goes to stderr so ``--json`` output stays clean.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer

from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.output import Output

__all__ = ["YesOption", "confirm_or_exit"]

#: The ``--yes`` option every state-changing command declares.
YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Confirm without asking (required when there is no terminal, e.g. in scripts).",
    ),
]


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached stdin
        return False


def confirm_or_exit(
    question: str,
    *,
    yes: bool,
    out: Output,
    is_terminal: Callable[[], bool] = _stdin_is_terminal,
    ask: Callable[[str], bool] | None = None,
) -> None:
    """Return if the action is confirmed; otherwise exit (2 without a terminal, 1 if declined).

    ``question`` names the action, e.g. ``"Buy 10 AAPL at market on DU1234567?"``.
    """
    if yes:
        return
    if not is_terminal():
        out.fail(
            ExitCode.USAGE_OR_CONFIG,
            f"{question.rstrip('?')}: needs confirmation and there is no terminal to ask on; "
            "pass --yes to confirm. Nothing was done.",
        )
    answer = ask(question) if ask is not None else typer.confirm(question, default=False, err=True)
    if not answer:
        out.fail(ExitCode.REJECTED, "not confirmed; nothing was done")
