"""Output: one JSON document on stdout, decimal strings, errors with exit codes."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest
import typer
from pydantic import SecretStr

from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.output import CatalystJSONEncoder, Output, decimal_str, dumps, to_jsonable
from catalyst_ibkr.config import MASK, WebhookUrl


def test_exit_codes_are_the_interface_numbers() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4]
    assert ExitCode.DONE == 0
    assert ExitCode.REJECTED == 1
    assert ExitCode.USAGE_OR_CONFIG == 2
    assert ExitCode.OUTCOME_UNKNOWN == 3
    assert ExitCode.GATEWAY_UNAVAILABLE == 4


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("100.250"), "100.250"),
        (Decimal("-0.0001"), "-0.0001"),
        (Decimal("1E-7"), "0.0000001"),
    ],
)
def test_decimal_strings_are_positional(value: Decimal, text: str) -> None:
    assert decimal_str(value) == text


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        decimal_str(bad)


class Side(Enum):
    BUY = "BUY"


@dataclass(frozen=True)
class Row:
    symbol: str
    quantity: Decimal
    side: Side
    time: datetime


def test_to_jsonable_converts_domain_values() -> None:
    eastern = timezone(timedelta(hours=-5))
    row = Row("AAPL", Decimal("10"), Side.BUY, datetime(2026, 1, 2, 9, 30, tzinfo=eastern))
    assert to_jsonable([row]) == [
        {"symbol": "AAPL", "quantity": "10", "side": "BUY", "time": "2026-01-02T14:30:00Z"}
    ]
    assert to_jsonable({"k": SecretStr("s3cr3t")}) == {"k": MASK}
    assert to_jsonable(WebhookUrl("https://h.example/T/B/tok")) == f"https://h.example/{MASK}"
    assert json.loads(json.dumps({"p": Decimal("1.5")}, cls=CatalystJSONEncoder)) == {"p": "1.5"}


def test_naive_datetimes_and_nan_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_jsonable(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="non-finite"):
        to_jsonable(float("nan"))
    with pytest.raises(TypeError):
        to_jsonable(object())


def _output(json_mode: bool) -> tuple[Output, io.StringIO, io.StringIO]:
    stdout, stderr = io.StringIO(), io.StringIO()
    return Output(json_mode, stdout=stdout, stderr=stderr), stdout, stderr


def test_json_mode_prints_exactly_one_document_and_logs_to_stderr() -> None:
    out, stdout, stderr = _output(True)
    out.info("quoting 3 symbols")
    out.warn("--insecure: TLS is not verified")
    out.line("a human line")
    out.result([{"symbol": "AAPL", "last": Decimal("190.10"), "time": datetime.now(UTC)}])
    assert json.loads(stdout.getvalue())[0]["last"] == "190.10"
    assert "quoting 3 symbols" in stderr.getvalue()
    assert "warning: --insecure" in stderr.getvalue()
    assert "a human line" in stderr.getvalue()
    with pytest.raises(RuntimeError, match="exactly one JSON document"):
        out.result({"again": True})
    with pytest.raises(RuntimeError):
        out.table(["a"], [["b"]])


def test_people_get_a_table_with_literal_text() -> None:
    out, stdout, _ = _output(False)
    out.result([], columns=["section", "qty"], rows=[["[gateway]", Decimal("5")], ["[b]", None]])
    text = stdout.getvalue()
    assert "[gateway]" in text and "[b]" in text and "5" in text


def test_fail_exits_with_code_message_and_json_error_document() -> None:
    out, stdout, stderr = _output(True)
    with pytest.raises(typer.Exit) as info:
        out.fail(
            ExitCode.OUTCOME_UNKNOWN,
            "order outcome unknown",
            details={"cOID": "sig-1", "lookup": "catalyst-ibkr orders"},
        )
    assert info.value.exit_code == 3
    document = json.loads(stdout.getvalue())
    assert document == {
        "error": {
            "exit_code": 3,
            "kind": "outcome_unknown",
            "message": "order outcome unknown",
            "cOID": "sig-1",
            "lookup": "catalyst-ibkr orders",
        }
    }
    assert "error: order outcome unknown" in stderr.getvalue()


def test_fail_for_people_prints_details_on_stderr_only() -> None:
    out, stdout, stderr = _output(False)
    with pytest.raises(typer.Exit) as info:
        out.fail(ExitCode.OUTCOME_UNKNOWN, "outcome unknown", details={"cOID": "sig-1"})
    assert info.value.exit_code == 3
    assert stdout.getvalue() == ""
    assert "cOID: sig-1" in stderr.getvalue()


def test_dumps_refuses_nan_and_keeps_unicode() -> None:
    assert dumps({"name": "Zürich"}, indent=None) == '{"name": "Zürich"}'
