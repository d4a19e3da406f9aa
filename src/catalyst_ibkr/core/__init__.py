"""The pure core: domain, order state machine, positions and risk. Stdlib only, no I/O.

Import from the modules (``catalyst_ibkr.core.orders``, ``...signals``, ...); docs/core.md
maps each module to its job and records the conventions (rounding, commissions, statuses).
"""
