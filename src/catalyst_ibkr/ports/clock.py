"""The Clock port: re-exported from the core so services can depend on `ports` alone."""

from __future__ import annotations

from catalyst_ibkr.core.clock import Clock

__all__ = ["Clock"]
