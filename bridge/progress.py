"""Progress of long command-line jobs (import, repush, sync --once, reconcile, FileMaker syncs).

On a terminal: a bar with counts, rate and time left (tqdm), redrawn in place. Otherwise (cron,
systemd, a pipe): one plain line every ``IPOINT_BRIDGE_PROGRESS_SECONDS`` seconds (default 5),
so a log shows the job is alive without a line per item. Either way a last line gives the
count, the time taken and the rate. Written to standard error, so standard output stays the
command's answer. Safe to advance from a worker thread.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

ENV_SECONDS = "IPOINT_BRIDGE_PROGRESS_SECONDS"
DEFAULT_SECONDS = 5.0


def _seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(ENV_SECONDS, DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


def _rate(done: int, elapsed: float, unit: str) -> str:
    return f"{done / elapsed:.0f} {unit}/s" if elapsed > 0 else f"- {unit}/s"


class Progress:
    """One job's progress: ``advance(n)`` or ``update(done)``, ``close()`` (or ``with``).

    Args:
        label: what is being done ("import: validating").
        total: how many items, if known (None: counts without a percentage).
        unit: the items' name, plural ("records", "changes").
        stream: where to write (default standard error); a terminal gets the bar.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "items",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream or sys.stderr
        self._clock = clock
        self._started = self._last = clock()
        self._every = _seconds()
        self._lock = threading.Lock()
        self._closed = False
        self._bar: tqdm[Any] | None = None
        if self._stream.isatty():
            from tqdm import tqdm  # only a terminal draws a bar: a log or pipe needs no tqdm

            try:
                columns = os.get_terminal_size(self._stream.fileno()).columns
            except (OSError, ValueError, AttributeError):
                columns = 0
            self._bar = tqdm(
                total=total,
                desc=label,
                unit=f" {unit}",
                file=self._stream,
                ncols=columns or 80,  # a terminal without a size (0x0) would get no bar at all
                mininterval=0.2,
                leave=False,
            )

    def set_total(self, total: int) -> None:
        with self._lock:
            self.total = total
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        """Set the count of items done so far."""
        with self._lock:
            if self._closed or done == self.done:
                return
            step, self.done = done - self.done, done
            if self._bar is not None:
                self._bar.update(step)
                return
            now = self._clock()
            if now - self._last >= self._every:
                self._last = now
                self._line(self._where(now))

    def _where(self, now: float) -> str:
        elapsed = now - self._started
        rate = _rate(self.done, elapsed, self.unit)
        if self.total:
            share = 100 * self.done / self.total
            return f"{self.done}/{self.total} {self.unit} ({share:.0f}%), {rate}"
        return f"{self.done} {self.unit}, {rate}"

    def _line(self, text: str) -> None:
        print(f"{self.label}: {text}", file=self._stream, flush=True)

    def close(self, note: str = "") -> None:
        """End the job: the bar goes, a last line with the count, time and rate stays."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._bar is not None:
                self._bar.close()
            elapsed = self._clock() - self._started
            rate = _rate(self.done, elapsed, self.unit)
            done = f"{self.done}/{self.total}" if self.total else str(self.done)
            tail = f"; {note}" if note else ""
            self._line(f"{done} {self.unit} in {elapsed:.1f} s ({rate}){tail}")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close("stopped" if exc is not None else "")
