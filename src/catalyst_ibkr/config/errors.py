"""Configuration errors that tell a person exactly which key to fix and where it came from.

Every message carries the config file's path (or says that no file was used), because the
same key can be set in a file, in the environment or by a flag, and "invalid value" without
the place to look is the error people waste the most time on.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConfigError", "ConfigIssue"]


@dataclass(frozen=True)
class ConfigIssue:
    """One problem with one key.

    ``where`` is the file path (or a description such as ``"no config file"``); ``origin``
    says how the value arrived (``file``, ``env CATALYST_...``, ``flag --gateway``) when it
    did not come from the file itself.
    """

    where: str
    key: str | None
    message: str
    origin: str | None = None

    def __str__(self) -> str:
        parts = [self.where]
        if self.key is not None:
            parts.append(self.key)
        text = ": ".join(parts) + ": " + self.message
        if self.origin is not None and self.origin != "file":
            text += f" (set by {self.origin})"
        return text


class ConfigError(ValueError):
    """The configuration cannot be used; ``issues`` lists every problem, not just the first."""

    def __init__(self, issues: list[ConfigIssue] | tuple[ConfigIssue, ...]) -> None:
        if not issues:
            raise ValueError("ConfigError needs at least one issue")
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @classmethod
    def single(
        cls, where: str, key: str | None, message: str, origin: str | None = None
    ) -> ConfigError:
        """Build an error with exactly one issue."""
        return cls([ConfigIssue(where=where, key=key, message=message, origin=origin)])
