"""Logs go to stderr with every credential masked: by key, by shape, in text and tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr

from catalyst_ibkr.config import MASK, DatabaseUrl
from catalyst_ibkr.logging import configure_logging, get_logger, is_secret_key, mask_text

SECRETS = ("hunter2", "tok-123", "K-api", "C-cookie", "sess-9", "abc.def-ghi", "dbpw")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into: {text}"


@pytest.mark.parametrize("json_logs", [False, True])
def test_structlog_fields_and_text_are_masked(json_logs: bool) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        configure_logging("INFO", json_logs=json_logs, stream=stream)
        get_logger("t").info(
            "calling with Authorization: Bearer abc.def-ghi",
            password="hunter2",
            api_key="K-api",
            headers={"Cookie": "C-cookie", "Accept": "json"},
            session_id="sess-9",
            token=SecretStr("tok-123"),
            db=DatabaseUrl("postgresql://u:dbpw@h/db"),
            authenticated=True,
        )
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()
    text = stream.getvalue()
    _assert_clean(text)
    assert MASK in text and "Accept" in text and "authenticated" in text


def test_stdlib_logs_are_masked_too(log_stream: io.StringIO) -> None:
    logging.getLogger("httpx").warning("POST https://u:hunter2@gw/x?token=tok-123 api_key=K-api")
    _assert_clean(log_stream.getvalue())
    assert "httpx" in log_stream.getvalue()


def test_tracebacks_are_masked(log_stream: io.StringIO) -> None:
    try:
        raise RuntimeError("login failed with password=hunter2")
    except RuntimeError:
        get_logger("t").exception("boom")
    text = log_stream.getvalue()
    _assert_clean(text)
    assert "RuntimeError" in text


def test_nothing_is_written_to_stdout(
    log_stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    get_logger("t").info("hello")
    assert capsys.readouterr().out == ""
    assert "hello" in log_stream.getvalue()


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "IBEAM_PASSWORD",
        "api_key",
        "x-api-key",
        "admin_key",
        "Set-Cookie",
        "session",
        "refresh_token",
        "client_secret",
        "Authorization",
    ],
)
def test_secret_key_names(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["symbol", "quantity", "account", "url", "order_id"])
def test_ordinary_key_names(key: str) -> None:
    assert not is_secret_key(key)


def test_mask_text_shapes() -> None:
    assert mask_text("Bearer abc.def") == f"Bearer {MASK}"
    assert mask_text("postgresql://me:pw@db/x") == f"postgresql://me:{MASK}@db/x"
    assert mask_text('{"password": "hunter2"}').count("hunter2") == 0
    assert mask_text("buy 10 AAPL") == "buy 10 AAPL"


def test_bad_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD", stream=io.StringIO())


def test_console_script_entry_sends_logs_to_stderr_masked(tmp_path: Path) -> None:
    """`run()` configures logging before any command, so a log line cannot corrupt --json."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import sys, structlog\n"
        "from catalyst_ibkr.cli import main\n"
        "command = main.app\n"
        "def app():\n"
        "    structlog.get_logger('t').warning('calling', api_key='SECRET-K1')\n"
        "    command()\n"
        "main.app = app\n"
        "sys.argv = ['catalyst-ibkr', '--json', 'config', 'check']\n"
        "main.run()\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)
    assert "calling" in result.stderr
    assert "SECRET-K1" not in result.stdout + result.stderr
