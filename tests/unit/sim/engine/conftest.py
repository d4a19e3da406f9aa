"""Engine test fixtures live in sim_engine_env.py (importable by name from the tests)."""

from __future__ import annotations

from sim_engine_env import env, make_env

__all__ = ["env", "make_env"]
