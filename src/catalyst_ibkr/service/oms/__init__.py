"""The order management system: intake, risk, send, in-doubt resolution, commands."""
