"""Dependencies shared by the routes: the running service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from catalyst_ibkr.api.service_api import ServiceApi

__all__ = ["Service", "get_service"]


async def get_service(request: Request) -> ServiceApi:
    """`async` so FastAPI calls it in the event loop (a plain `def` costs a thread hop)."""
    service: ServiceApi | None = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the service is starting; retry in a moment")
    return service


Service = Annotated[ServiceApi, Depends(get_service)]
