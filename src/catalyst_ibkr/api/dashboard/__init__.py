"""The operator dashboard at ``/``: static HTML/JS/CSS shipped in the package, no build step.

See ``routes`` for the HTTP side and ``static/app.js`` for what the page does.
"""

from __future__ import annotations

from .routes import router

__all__ = ["router"]
