"""catalyst-ibkr: the execution gateway between Catalyst signals and Interactive Brokers."""

__version__ = "0.1.0"
