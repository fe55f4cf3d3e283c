"""Saving and loading the emulator's state to one JSON file, so ``demo`` survives restarts.

Calendars, events, ACLs, calendar lists and OAuth grants/tokens are kept (a refresh token the
bridge stored keeps working after a restart); quotas, faults, counters and pending consents are
not. The file is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from google_emulator.engine import Engine

logger = logging.getLogger(__name__)
FORMAT = 1


def save(engine: Engine, path: Path) -> None:
    data = {
        "format": FORMAT,
        "clock_offset": engine.clock.offset,
        "store": engine.store.dump(),
        "oauth": engine.oauth.dump(),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def load(engine: Engine, path: Path) -> bool:
    """Load ``path`` into ``engine``; ``False`` (state untouched) when there is no usable file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        logger.warning("emulator state %s unreadable (%s); starting fresh", path, exc)
        return False
    if data.get("format") != FORMAT:
        logger.warning("emulator state %s has an unknown format; starting fresh", path)
        return False
    engine.clock.offset = float(data.get("clock_offset", 0.0))
    engine.store.load(data["store"])
    engine.oauth.load(data["oauth"])
    for spec in engine.settings.accounts:
        engine.store.add_account(spec.email, spec.time_zone, spec.display_name)
    return True
