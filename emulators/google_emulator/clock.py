"""The emulator's clock: wall time plus an offset the control API can advance.

Advancing it is how tests expire access tokens, age "Testing" refresh tokens past 7 days, slide
quota windows and purge tombstones without sleeping.
"""

from __future__ import annotations

import time


class Clock:
    """``now()`` in epoch seconds; ``advance()`` moves it forward."""

    __slots__ = ("offset",)

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds
