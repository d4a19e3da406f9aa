"""Small helpers for the simulator-server integration tests (real loopback HTTPS)."""

from __future__ import annotations

from typing import Any

import httpx

from sim_fixtures import RunningSim

ACCT = "DU1234567"
AAPL = 265598


def api(sim: RunningSim) -> httpx.Client:
    """A TLS-verifying client rooted at ``/v1/api``."""
    return httpx.Client(base_url=sim.api_url, verify=sim.ssl_context(), timeout=10.0)


def warm(client: httpx.Client) -> None:
    assert client.get("/iserver/accounts").status_code == 200


def place(client: httpx.Client, **order: Any) -> httpx.Response:
    order.setdefault("conid", AAPL)
    order.setdefault("side", "BUY")
    order.setdefault("tif", "DAY")
    return client.post(f"/iserver/account/{ACCT}/orders", json={"orders": [order]})


def place_confirmed(client: httpx.Client, **order: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Place and answer every question with yes; returns (message ids asked, final body)."""
    asked: list[str] = []
    body = place(client, **order).json()
    for _ in range(10):
        if isinstance(body, list) and body and "id" in body[0]:
            asked.extend(body[0]["messageIds"])
            body = client.post(f"/iserver/reply/{body[0]['id']}", json={"confirmed": True}).json()
        else:
            break
    return asked, body


def pin(sim: RunningSim, symbol: str = "AAPL", **prices: Any) -> None:
    sim.set_market(symbol, **prices)
