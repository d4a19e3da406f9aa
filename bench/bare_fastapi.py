"""The calibration point of workload (5): the cheapest FastAPI endpoint this machine serves.

The issue states its intake goal beside "a bare FastAPI endpoint serves about 6,600
requests per second on one core". Machines differ (sessions have measured 4,700 to 10,350
here), so workload (5) measures this endpoint with the same wrk command and reports it
next to the service's own rate. It reads the body and answers 202, nothing else.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/v1/signals")
async def accept(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"status": "RECEIVED"}, status_code=202)
