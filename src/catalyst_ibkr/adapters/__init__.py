"""Adapters: implementations of the ports (Web API, TWS socket API, in-memory fake)."""
