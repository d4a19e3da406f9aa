"""The ``catalyst-ibkr`` command line."""
