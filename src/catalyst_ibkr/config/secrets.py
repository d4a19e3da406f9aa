"""Secret-bearing values that cannot leak through ``repr``, ``str``, ``model_dump`` or JSON.

Plain keys (API keys) use pydantic's ``SecretStr``: fully masked. URLs are different: an
operator needs to see *which* database or webhook host is configured, but not the password in
``postgresql://user:pw@host/db`` nor the token in a Slack webhook's path. ``DatabaseUrl`` hides
only the password; ``WebhookUrl`` hides the password, the path and the query (where webhook
tokens live). The real value is reachable only through ``get_secret_value()``.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["MASK", "DatabaseUrl", "MaskedUrl", "WebhookUrl", "mask_url_password"]

MASK = "**********"


def mask_url_password(url: str) -> str:
    """Replace the password of ``scheme://user:password@host`` with the mask."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostinfo}"))


class MaskedUrl:
    """A URL whose secret parts never appear in its text forms."""

    #: Whether the path and query are secret too (webhook tokens) or just the password.
    hide_path: ClassVar[bool] = False

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"{type(self).__name__} needs a string")
        self._value = value

    def get_secret_value(self) -> str:
        """The real URL, for the one place that connects with it."""
        return self._value

    @property
    def masked(self) -> str:
        """The URL as it may be shown to people and written to logs."""
        text = mask_url_password(self._value)
        if not self.hide_path:
            return text
        parts = urlsplit(text)
        if not parts.path.strip("/") and not parts.query and not parts.fragment:
            return text
        return urlunsplit((parts.scheme, parts.netloc, "/" + MASK, "", ""))

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.masked!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._value == self._value

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._value))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def build(value: Any) -> MaskedUrl:
            if isinstance(value, cls):
                return value
            if not isinstance(value, str):
                raise ValueError("expected a URL string")
            return cls(value)

        return core_schema.no_info_plain_validator_function(
            build,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.masked, when_used="always"
            ),
        )


class DatabaseUrl(MaskedUrl):
    """A SQLAlchemy URL; only the password is secret (the database name helps operators)."""

    hide_path = False


class WebhookUrl(MaskedUrl):
    """An alert webhook; Slack-style webhooks carry their token in the path, so hide it all."""

    hide_path = True
