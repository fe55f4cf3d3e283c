"""The emulator's whole state: hosted files, sessions, faults, clock and request counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from emulator_kit.clock import Clock

from filemaker_emulator.database import Database
from filemaker_emulator.errors import FmError
from filemaker_emulator.faults import Faults
from filemaker_emulator.model import FileSpec
from filemaker_emulator.sessions import IDLE_SECONDS, Sessions


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    """What ``create_app`` serves: the hosted files (default: the small iPoint-like file)."""

    host: str = "127.0.0.1"
    port: int = 0
    files: tuple[FileSpec, ...] = ()
    idle_seconds: float = IDLE_SECONDS
    max_body_bytes: int = 256 * 1024 * 1024


@dataclass(slots=True)
class State:
    settings: EmulatorSettings
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)
    requests: Counter[str] = field(default_factory=Counter)
    databases: dict[str, Database] = field(default_factory=dict)
    sessions: Sessions = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.clock, self.settings.idle_seconds)
        self.reset()

    def reset(self) -> None:
        """Back to the files as specified: no records, no sessions, no faults, counters zero."""
        self.databases = {f.name: Database(f, self.clock) for f in self.settings.files}
        self.sessions.expire_all()
        self.faults.clear()
        self.requests.clear()

    def database(self, name: str) -> Database:
        db = self.databases.get(name)
        if db is None:
            raise FmError(802)
        return db
