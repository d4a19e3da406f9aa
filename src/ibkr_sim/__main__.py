"""``python -m ibkr_sim`` entry point."""

from __future__ import annotations

import sys

from ibkr_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
