"""Ports: the protocols the services depend on (broker, clock). Typing only, no I/O."""
