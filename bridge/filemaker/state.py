"""Where each FileMaker source stands, kept in the bridge's database (component ``filemaker``),
so a restart resumes from the last modification timestamp read instead of reading everything.

``filemaker_positions``: per source the largest modification timestamp read (FileMaker's wall
clock, ISO text, no zone: the Data API sends none) and the "boundary": key -> modId of the
records read at or just below it. The next poll asks for ``>=`` that timestamp minus an overlap
(several records share a second) and skips the boundary records whose modId has not moved.

Also the one query the deletion scan needs from the event store: the live ids under a source's
``id_prefix``, in pages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..store import EventStore
from ..store.db import Step

COMPONENT = "filemaker"
STEPS: tuple[Step, ...] = (
    """
CREATE TABLE filemaker_positions (
    source TEXT PRIMARY KEY,
    modified TEXT,
    boundary TEXT NOT NULL,
    updated DOUBLE PRECISION NOT NULL
)""",
)
_PAGE = 5000


@dataclass(frozen=True, slots=True)
class Position:
    """The last modification timestamp read (``None``: nothing read yet, start from scratch)."""

    modified: str | None = None
    boundary: Mapping[str, str] = field(default_factory=dict)


def migrate(store: EventStore) -> None:
    store.db.migrate(COMPONENT, STEPS)


def load_position(store: EventStore, source: str) -> Position:
    with store.db.snapshot() as conn:
        rows = conn.execute(
            "SELECT modified, boundary FROM filemaker_positions WHERE source = ?", (source,)
        )
    if not rows:
        return Position()
    boundary = json.loads(rows[0][1])
    return Position(rows[0][0], {str(k): str(v) for k, v in boundary.items()})


def save_position(store: EventStore, source: str, position: Position) -> None:
    with store.db.transaction() as conn:
        conn.execute(
            "INSERT INTO filemaker_positions (source, modified, boundary, updated) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
            "modified = excluded.modified, boundary = excluded.boundary, "
            "updated = excluded.updated",
            (source, position.modified, json.dumps(dict(position.boundary)), time.time()),
        )


def clear_position(store: EventStore, source: str) -> None:
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM filemaker_positions WHERE source = ?", (source,))


def live_ids(store: EventStore, prefix: str) -> Iterator[str]:
    """Ids of live events starting with ``prefix``, in pages of the primary key's order.

    The prefix is tested with ``substr``, not as a key range: under a PostgreSQL locale
    collation, ids outside the prefix may sort between ids inside it. An empty prefix means
    every live event: a source without a prefix owns the whole store."""
    last = ""
    while True:
        with store.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT id FROM events WHERE deleted = 0 AND id > ? AND substr(id, 1, ?) = ? "
                "ORDER BY id LIMIT ?",
                (last, len(prefix), prefix, _PAGE),
            )
        for (event_id,) in rows:
            yield str(event_id)
        if len(rows) < _PAGE:
            return
        last = str(rows[-1][0])
