"""What every emulator in this distribution shares: the test clock, serving an aiohttp app on a
free loopback port, an event loop on a thread for synchronous callers, and calls to an
emulator's ``/_emulator/`` control API."""
