"""The HTTP service: FastAPI routes over the `ExecutionService` seam (docs/service.md).

Nothing here connects or opens a database at import: `create_app` builds the service in the
app's lifespan, so importing the package (tests, OpenAPI generation) is side-effect free.
"""

from __future__ import annotations

from catalyst_ibkr.api.app import ApiKeys, create_app

__all__ = ["ApiKeys", "create_app"]
