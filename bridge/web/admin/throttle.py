"""Login throttling: a few wrong passwords per client address, then a pause.

Counted per client address and, as a backstop against guesses spread over many addresses, for
all addresses together. Behind a reverse proxy every request may come from the proxy's address;
then the per-address limit acts as the global one, which still only slows an attacker down.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 15 * 60
PER_CLIENT = 5
OVERALL = 50
MAX_CLIENTS = 10_000


class LoginThrottle:
    """Failed logins in a sliding window; ``wait`` says how long a client must pause."""

    def __init__(
        self,
        *,
        window: float = WINDOW_SECONDS,
        per_client: int = PER_CLIENT,
        overall: int = OVERALL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._per_client = per_client
        self._overall = overall
        self._clock = clock
        self._by_client: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _trim(self, times: deque[float], now: float) -> None:
        while times and now - times[0] >= self._window:
            times.popleft()

    def wait(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        now = self._clock()
        self._trim(self._all, now)
        waits = [0.0]
        if len(self._all) >= self._overall:
            waits.append(self._all[0] + self._window - now)
        times = self._by_client.get(client)
        if times is not None:
            self._trim(times, now)
            if len(times) >= self._per_client:
                waits.append(times[-self._per_client] + self._window - now)
        return max(waits)

    def failed(self, client: str) -> None:
        now = self._clock()
        if client not in self._by_client and len(self._by_client) >= MAX_CLIENTS:
            # Forget the quietest client rather than grow without bound.
            oldest = min(
                self._by_client, key=lambda c: self._by_client[c][-1] if self._by_client[c] else 0.0
            )
            del self._by_client[oldest]
        self._by_client.setdefault(client, deque()).append(now)
        self._all.append(now)

    def succeeded(self, client: str) -> None:
        self._by_client.pop(client, None)
