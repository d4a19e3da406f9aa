"""``python -m ibkr_sim``: the same flags as ``catalyst-ibkr sim``, without catalyst_ibkr.

ibkr_sim must not import the gateway package, so it carries its own small argparse front
end; both front ends only build a :class:`SimOptions` and call :func:`ibkr_sim.server.run`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ibkr_sim.options import DEFAULT_STATE_DIR, SimOptions, load_config, parse_hhmm
from ibkr_sim.server import run

__all__ = ["build_options", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ibkr_sim",
        description="Offline simulator of IBKR's Client Portal Gateway (see docs/simulator.md).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--no-tls", action="store_true", help="serve plain http")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="sim seconds per real second; divides every IBKR window and delay")
    p.add_argument("--no-pacing", action="store_true", help="never answer 429")
    p.add_argument("--penalty-s", type=float, default=900.0, help="penalty box length (sim s)")
    p.add_argument("--market-hours", choices=("always", "nyse"), default="always")
    p.add_argument("--daily-reset", default=None, metavar="HH:MM", help="daily reset (UTC)")
    p.add_argument("--relogin-s", type=float, default=5.0)
    p.add_argument("--tws-port", type=int, default=None, help="also serve the TWS socket API here")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    p.add_argument("--persist", type=Path, default=None, metavar="FILE",
                   help="keep the account's book in FILE across restarts (JSON)")
    p.add_argument("--config", type=Path, default=None, help="TOML file with a [sim] table")
    return p


def build_options(argv: list[str] | None = None) -> SimOptions:
    args = _parser().parse_args(argv)
    options = SimOptions(
        host=args.host, port=args.port, tls=not args.no_tls, seed=args.seed,
        time_scale=args.time_scale, pacing=not args.no_pacing, penalty_s=args.penalty_s,
        market_hours=args.market_hours, tws_port=args.tws_port, state_dir=args.state_dir,
        relogin_s=args.relogin_s, persist_path=args.persist,
    )
    if args.daily_reset:
        options = replace(options, daily_reset=parse_hhmm(args.daily_reset))
    if args.config is not None:
        options = load_config(args.config, options)
    options.validate()
    return options


def main(argv: list[str] | None = None) -> int:
    try:
        options = build_options(argv)
    except ValueError as exc:
        print(f"ibkr_sim: {exc}", file=sys.stderr)
        return 2
    try:
        run(options)
    except ValueError as exc:  # an unusable --persist file: the message says how to fix it
        print(f"ibkr_sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ibkr_sim: cannot serve on {options.host}:{options.port}: {exc}", file=sys.stderr)
        return 4
    return 0
