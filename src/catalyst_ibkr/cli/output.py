"""Output for people (rich tables) and for scripts (exactly one JSON document on stdout).

Stdout carries the result and nothing else; progress, warnings and logs go to stderr, so
``catalyst-ibkr --json orders | jq`` always parses. Money and quantities are decimal strings
(``"100.25"``, never ``100.25`` or ``1.0025E+2``) so no script reads them as binary floats.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, Any, NoReturn

import typer
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.config.secrets import MASK, MaskedUrl

__all__ = [
    "CatalystJSONEncoder",
    "Output",
    "decimal_str",
    "dumps",
    "to_jsonable",
]


def decimal_str(value: Decimal) -> str:
    """A finite Decimal as plain positional text: ``Decimal("1E+2")`` -> ``"100"``."""
    if not value.is_finite():
        raise ValueError(f"refusing to print a non-finite decimal {value}")
    return format(value, "f")


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"refusing to print a naive datetime {value.isoformat()} (use UTC)")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_jsonable(value: Any) -> Any:
    """Our values as JSON types: Decimal -> str, aware datetime -> ISO 8601 UTC, secrets masked."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # Durations and ratios; money and quantities must arrive as Decimal (domain rule).
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"refusing to print a non-finite number {value}")
        return value
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else ""
    if isinstance(value, MaskedUrl):
        return value.masked
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="python"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    raise TypeError(f"cannot print a {type(value).__name__} as JSON")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class CatalystJSONEncoder(json.JSONEncoder):
    """``json.dumps(..., cls=CatalystJSONEncoder)`` for Decimal, datetime, enums and secrets."""

    def default(self, o: Any) -> Any:
        return to_jsonable(o)

    def encode(self, o: Any) -> str:
        return super().encode(to_jsonable(o))

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        return super().iterencode(to_jsonable(o), _one_shot)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """One JSON document, UTF-8 friendly, no NaN/Infinity."""
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False, allow_nan=False)


def _cell(value: Any) -> str:
    plain = to_jsonable(value)
    if plain is None:
        return ""
    if isinstance(plain, list):
        return ", ".join(str(item) for item in plain)
    if isinstance(plain, dict):
        return json.dumps(plain, ensure_ascii=False)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return str(plain)


class Output:
    """Where a command writes: ``json_mode`` chooses one JSON document over tables.

    A second result in JSON mode is a programming error (it would break ``jq``), so it raises.
    """

    def __init__(
        self,
        json_mode: bool,
        *,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self._stdout = stdout if stdout is not None else sys.stdout
        self._stderr = stderr if stderr is not None else sys.stderr
        self._emitted = False
        # Piped output is read by people in logs and pagers: don't squeeze it to 80 columns.
        width = None if _isatty(self._stdout) else 160
        self.console = Console(file=self._stdout, highlight=False, soft_wrap=False, width=width)
        self.err_console = Console(file=self._stderr, highlight=False, soft_wrap=True)

    @property
    def emitted(self) -> bool:
        """Whether the JSON document has been written."""
        return self._emitted

    def result(
        self,
        data: Any,
        *,
        columns: Sequence[str] | None = None,
        rows: Sequence[Sequence[Any]] | None = None,
        title: str | None = None,
    ) -> None:
        """Print the command's result: ``data`` as JSON, or ``rows`` as a table for people.

        Without ``rows``, people get the JSON too (indented), which suits nested results.
        """
        if self.json_mode:
            if self._emitted:
                raise RuntimeError("a --json command must print exactly one JSON document")
            self._emitted = True
            self._stdout.write(dumps(data) + "\n")
            self._stdout.flush()
            return
        if rows is None or columns is None:
            self._stdout.write(dumps(data) + "\n")
            return
        self.table(columns, rows, title=title)

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None
    ) -> None:
        """A table on stdout for people (never in JSON mode: it would corrupt the document)."""
        if self.json_mode:
            raise RuntimeError("tables are for people; use result() in --json mode")
        table = Table(title=title, show_lines=False, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            # Text, not markup: "[gateway]" or a broker message must print literally.
            table.add_row(*(Text(_cell(cell)) for cell in row))
        self.console.print(table)

    def line(self, text: str) -> None:
        """A line of human output on stdout (in JSON mode it goes to stderr instead)."""
        if self.json_mode:
            self.info(text)
        else:
            self.console.print(text, markup=False)

    def info(self, text: str) -> None:
        """Progress and notes: stderr, so stdout stays clean."""
        self.err_console.print(text, markup=False)

    def warn(self, text: str) -> None:
        """A warning on stderr."""
        self.err_console.print(f"warning: {text}", markup=False, style="yellow")

    def error(self, text: str) -> None:
        """An error message on stderr."""
        self.err_console.print(f"error: {text}", markup=False, style="red")

    def fail(
        self, code: ExitCode, message: str, *, details: Mapping[str, Any] | None = None
    ) -> NoReturn:
        """Print ``message`` on stderr (and, in JSON mode, an error document on stdout) and exit.

        ``details`` (e.g. the cOID and the lookup command for an unknown outcome) go into the
        JSON document and, for people, onto stderr below the message.
        """
        self.error(message)
        if details and not self.json_mode:
            for key, value in details.items():
                if isinstance(value, str | int | Decimal):  # structured details are for scripts
                    self.err_console.print(f"  {key}: {_cell(value)}", markup=False)
        if self.json_mode and not self._emitted:
            document: dict[str, Any] = {
                "error": {"exit_code": int(code), "kind": code.name.lower(), "message": message}
            }
            if details:
                document["error"].update({str(k): v for k, v in details.items()})
            self.result(document)
        raise typer.Exit(int(code))
