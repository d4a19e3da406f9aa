"""Confirmation: ask on a terminal; without one require --yes (exit 2); declining exits 1."""

from __future__ import annotations

import io

import pytest
import typer

from catalyst_ibkr.cli.confirm import confirm_or_exit
from catalyst_ibkr.cli.output import Output


def _out() -> tuple[Output, io.StringIO]:
    stderr = io.StringIO()
    return Output(False, stdout=io.StringIO(), stderr=stderr), stderr


def _never_asked(question: str) -> bool:
    raise AssertionError(f"asked {question!r}")


def test_yes_skips_the_question_even_without_terminal() -> None:
    out, _ = _out()
    confirm_or_exit("Buy 1 AAPL?", yes=True, out=out, is_terminal=lambda: False, ask=_never_asked)


def test_without_terminal_and_yes_exits_2_saying_pass_yes() -> None:
    out, stderr = _out()
    with pytest.raises(typer.Exit) as info:
        confirm_or_exit(
            "Buy 1 AAPL?", yes=False, out=out, is_terminal=lambda: False, ask=_never_asked
        )
    assert info.value.exit_code == 2
    assert "pass --yes" in stderr.getvalue()
    assert "Buy 1 AAPL" in stderr.getvalue()


def test_on_a_terminal_yes_proceeds_and_no_exits_1() -> None:
    out, _ = _out()
    asked: list[str] = []

    def answer_yes(question: str) -> bool:
        asked.append(question)
        return True

    confirm_or_exit("Cancel all?", yes=False, out=out, is_terminal=lambda: True, ask=answer_yes)
    assert asked == ["Cancel all?"]
    with pytest.raises(typer.Exit) as info:
        confirm_or_exit(
            "Cancel all?", yes=False, out=out, is_terminal=lambda: True, ask=lambda q: False
        )
    assert info.value.exit_code == 1


def test_default_terminal_check_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    out, stderr = _out()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal
    with pytest.raises(typer.Exit) as info:
        confirm_or_exit("Sell 5 MSFT?", yes=False, out=out)
    assert info.value.exit_code == 2
    assert "--yes" in stderr.getvalue()
