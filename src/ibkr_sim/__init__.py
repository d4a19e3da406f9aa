"""ibkr_sim: an offline stand-in for IBKR's Client Portal Gateway (and, later, TWS).

This package imports nothing from ``catalyst_ibkr``: it is the broker side of the wire,
so the gateway's adapters can only reach it over the network, exactly as they reach IBKR.
"""

__version__ = "0.1.0"
