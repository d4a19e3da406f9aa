"""Services composing the core and the adapters (OMS, journal, session keeper, watchdog)."""
