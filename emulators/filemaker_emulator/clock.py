"""The emulator's clock: wall time plus an offset tests advance.

Advancing it is how tests let a session sit idle past FileMaker Server's 15 minutes, and move the
auto-enter modification timestamps forward, without sleeping.
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
