"""The exception tree: each troubleshooting row says what is wrong and what to do."""

from __future__ import annotations

import httpx
import pytest

from catalyst_ibkr.adapters.webapi import errors as e

REQUEST = httpx.Request("GET", "https://gw.test/v1/api/iserver/accounts")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        # the seed's troubleshooting table, row by row
        (e.NotAuthenticated("the gateway answered 401"), ["IBeam", "re-authenticate"]),
        (
            e.RateLimited("IBKR rate-limited GET /x (429)", scope="global", until=0.0),
            ["penalty box", "paused"],
        ),
        (e.GatewayTimeout("no answer"), ["not responding", "logs", "restart"]),
        (e.GatewayStarting("refused"), ["starting", "wait about 2 minutes"]),
        (e.AuthenticationPending("no session"), ["pending", "IB Key"]),
        (e.CompetingSession("competing"), ["Log out of the other session", "TWS"]),
        (e.GatewayUnreachable("refused"), ["--gateway", "running"]),
    ],
)
def test_troubleshooting_rows_say_what_to_do(error: e.WebApiError, words: list[str]) -> None:
    text = str(error)
    assert text.startswith(error.message) and error.hint
    for word in words:
        assert word in text


def test_exit_codes_follow_interfaces() -> None:
    assert e.OrderRejected("no").exit_code == 1
    assert e.QuestionDeclined("o451", "value").exit_code == 1
    assert e.OutcomeUnknown("place order", "timeout", coid="c1").exit_code == 3
    for err in (e.GatewayUnreachable("x"), e.NotAuthenticated("x"), e.ProtocolError("x")):
        assert err.exit_code == 4


def test_outcome_unknown_carries_coid_and_lookup() -> None:
    err = e.OutcomeUnknown("place order", "read timeout", coid="sig-9-abc")
    assert err.coid == "sig-9-abc"
    assert "NOT resent" in str(err) and "catalyst-ibkr orders" in str(err)


def test_question_declined_quotes_ibkr() -> None:
    err = e.QuestionDeclined("o451", "value estimate exceeds the Total Value Limit", coid="c")
    assert "o451" in str(err) and "Total Value Limit" in str(err) and "[questions]" in str(err)


@pytest.mark.parametrize(
    ("exc", "seen", "expected"),
    [
        (httpx.ConnectError("All connection attempts failed"), False, e.GatewayUnreachable),
        (httpx.ConnectError("All connection attempts failed"), True, e.GatewayStarting),
        (httpx.ConnectTimeout("timed out"), False, e.GatewayUnreachable),
        (httpx.ReadTimeout("timed out"), False, e.GatewayTimeout),
        (httpx.RemoteProtocolError("Server disconnected"), False, e.ConnectionDropped),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate"),
            False,
            e.TlsError,
        ),
    ],
)
def test_translate_transport(
    exc: httpx.TransportError, seen: bool, expected: type[e.TransportError]
) -> None:
    mapped = e.translate_transport(exc, method="GET", path="/x", seen_before=seen)
    assert type(mapped) is expected
    assert mapped.nothing_sent == isinstance(mapped, e.GatewayUnreachable | e.TlsError)


def test_messages_are_redacted() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    err = e.GatewayHttpError(500, "/x", f'{{"error": "bad", "session": "{secret}"}} {secret}')
    assert secret not in str(err)
    rejected = e.OrderRejected(f"cookie: api={secret}")
    assert secret not in str(rejected) and secret not in rejected.ibkr_text
