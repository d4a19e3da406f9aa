"""The Client Portal view of the simulator: aiohttp routes over the shared engine."""
