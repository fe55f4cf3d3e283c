"""``/readyz``: a registry of named readiness checks, one per part this instance runs.

Each part adds its own check when it is set up (``readiness(app).add(name, check)``): the store,
the CalDAV server, Google's authorization, the Google writer's lease, and any FileMaker source.
``/readyz`` runs them all at once, each bounded by ``CHECK_TIMEOUT``, and answers JSON naming
every part with its state; 503 when any *required* part is down. Informational parts (which
instance writes to Google) are named but never make the instance unready.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

logger = logging.getLogger(__name__)
CHECK_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """One part's state: ``ok``, and a short word or phrase for people and probes."""

    ok: bool
    state: str


Check = Callable[[], Awaitable[Verdict]]


@dataclass(frozen=True, slots=True)
class _Entry:
    check: Check
    required: bool


class Readiness:
    """Named checks, in the order they were added."""

    def __init__(self) -> None:
        self._checks: dict[str, _Entry] = {}

    def add(self, name: str, check: Check, *, required: bool = True) -> None:
        """Register ``check`` under ``name`` (a later add of the same name replaces it)."""
        self._checks[name] = _Entry(check, required)

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    async def _one(self, name: str, entry: _Entry) -> Verdict:
        try:
            return await asyncio.wait_for(entry.check(), CHECK_TIMEOUT)
        except TimeoutError:
            logger.warning("readiness: %s did not answer within %.0fs", name, CHECK_TIMEOUT)
            return Verdict(False, f"no answer within {CHECK_TIMEOUT:.0f}s")
        except Exception as exc:  # any failure means down; the reason goes to the answer
            logger.warning("readiness: %s failed: %s", name, type(exc).__name__)
            return Verdict(False, f"failed ({type(exc).__name__})")

    async def run(self) -> tuple[bool, dict[str, dict[str, object]]]:
        names = list(self._checks)
        verdicts = await asyncio.gather(*(self._one(n, self._checks[n]) for n in names))
        ready = all(v.ok for n, v in zip(names, verdicts, strict=True) if self._checks[n].required)
        parts: dict[str, dict[str, object]] = {
            n: {"ok": v.ok, "state": v.state, "required": self._checks[n].required}
            for n, v in zip(names, verdicts, strict=True)
        }
        return ready, parts


READINESS: web.AppKey[Readiness] = web.AppKey("readiness", Readiness)


def readiness(app: web.Application) -> Readiness:
    """The app's registry, created on first call (before the app starts)."""
    registry = app.get(READINESS)
    if registry is None:
        registry = Readiness()
        app[READINESS] = registry
    return registry


async def readyz(request: web.Request) -> web.Response:
    ready, parts = await readiness(request.app).run()
    return web.json_response({"ready": ready, "parts": parts}, status=200 if ready else 503)
