"""Structured logging to stderr, with credentials masked before anything is written.

Both structlog loggers and the standard library's (httpx, uvicorn, sqlalchemy) go through
one processor chain ending in ``mask_secrets``, so a password, token, cookie or bearer header
cannot reach a log line even when it is logged by accident: by key name (``password=...``),
by shape (``Authorization: Bearer ...``, ``scheme://user:password@host``), or as a SecretStr.
Stdout is left alone: it belongs to the command's result (``--json``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import structlog
from pydantic import SecretStr

from catalyst_ibkr.config.secrets import MASK, MaskedUrl

__all__ = ["configure_logging", "get_logger", "is_secret_key", "mask_secrets", "mask_text"]

#: Key names whose values are credentials. Matched as a word part, so ``api_key``,
#: ``x-api-key``, ``session_id``, ``set-cookie`` and ``IBEAM_PASSWORD`` all count.
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|admin[_-]?key|cookie|session|"
    r"authorization|credential|private[_-]?key)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^\s:/@]+):[^\s@/]+@", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"\b([\w.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|admin[_-]?key|cookie|session"
    r"|authorization)[\w.-]*)([\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    """Whether a field called ``key`` holds a credential."""
    return bool(_SECRET_KEY.search(key))


def mask_text(text: str) -> str:
    """Mask credentials that appear inside free text (messages, exception strings)."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def _mask_value(value: Any, *, secret: bool) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, MaskedUrl):
        return value.masked
    if secret and value is not None and not isinstance(value, bool):
        return MASK  # True/False/None carry no credential and help debugging
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bytes):
        return mask_text(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {k: _mask_value(v, secret=is_secret_key(str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v, secret=False) for v in value]
    if isinstance(value, BaseException):
        return mask_text(f"{type(value).__name__}: {value}")
    return value


def mask_secrets(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask every credential in the event (keys, nested values, text)."""
    for key in list(event_dict):
        if key in ("exc_info", "stack_info"):
            continue
        event_dict[key] = _mask_value(event_dict[key], secret=is_secret_key(key))
    return event_dict


def _mask_rendered(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # Tracebacks are rendered into "exception" late in the chain; mask that text too.
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = mask_text(event_dict[key])
    return event_dict


def configure_logging(
    level: str | int = "INFO", *, json_logs: bool = False, stream: IO[str] | None = None
) -> None:
    """Send structlog and standard-library logs to ``stream`` (stderr), secrets masked.

    ``json_logs`` writes one JSON object per line (for the service under a log shipper);
    otherwise a readable console format without colours.
    """
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask_rendered,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("catalyst-ibkr")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "catalyst-ibkr":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(numeric)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (``log.info("event", key=value)``)."""
    return structlog.stdlib.get_logger(name)
