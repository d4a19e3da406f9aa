"""Definitive refusals. Messages use IBKR's wording where IBKR has one, so the server can
pass them through unchanged."""

from __future__ import annotations

__all__ = ["EngineRejection", "OrderNotFound"]


class EngineRejection(Exception):
    """The engine refused a request; nothing changed. ``message`` is user-facing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OrderNotFound(EngineRejection):
    """No order with that id exists for that account."""

    def __init__(self, order_id: int) -> None:
        super().__init__(f"OrderID {order_id} doesn't exist")
        self.order_id = order_id
