"""An emulator's clock: wall time plus an offset the control API advances.

Advancing it is how tests expire tokens and sessions, age refresh tokens, slide quota windows
and move auto-enter timestamps forward without sleeping.
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
