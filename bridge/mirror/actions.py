"""Applying planned actions: one Google call each (sent in batches), and right after each batch
the status rows it settled, so a kill loses nothing that cannot be safely redone.

Answers and what they mean (Google Calendar API reference and "Handle API errors"):
- insert answered 409 ``duplicate``: the id is ours already (a lost answer, or a deleted event,
  whose id stays reserved): update it with the full body, ``status`` included, which also brings
  a deleted event back;
- update answered 404: Google never got the event: insert it next round; for an instance, the
  series has no occurrence at that time: reported, not retried;
- delete answered 404 or 410: already gone, which is what was wanted;
- insert answered 404: the calendar itself is gone (deleted by hand): it is created again;
- 403 ``quotaExceeded``: stop writing to the account, keep the queue;
- rate limits and 5xx are retried by the client; what still fails stays queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field

from ..google.client import Build, GoogleClient, Result
from ..google.errors import (
    Duplicate,
    Gone,
    GoogleError,
    NotFound,
    QuotaExceeded,
    RateLimited,
    Transient,
)
from .plan import Action
from .status import RowUpdate, StatusDB

logger = logging.getLogger(__name__)

_FIELDS = "id,etag,status"
"""Ask only for what the status needs (less to transfer and parse)."""


@dataclass(slots=True)
class ApplyReport:
    """What a run of actions achieved."""

    sent: int = 0
    settled: int = 0
    failed: int = 0
    quota: QuotaExceeded | None = None
    calendars_gone: set[str] = field(default_factory=set)
    failed_gids: set[str] = field(default_factory=set)
    last_error: dict[str, str] = field(default_factory=dict)


def request_for(action: Action) -> Build:
    """The one call an action makes (no I/O until the client executes it)."""
    cid, gid, body = action.calendar_id, action.gid, action.body
    if action.kind == "insert":
        full = {**(body or {}), "id": gid}
        return lambda s: s.events().insert(calendarId=cid, body=full, fields=_FIELDS)
    if action.kind == "update":
        return lambda s: s.events().update(calendarId=cid, eventId=gid, body=body, fields=_FIELDS)
    if action.kind == "delete":
        return lambda s: s.events().delete(calendarId=cid, eventId=gid)
    raise ValueError(f"action {action.kind} makes no call")


def _is_instance(gid: str) -> bool:
    return "_" in gid


def _judge(
    action: Action, result: Result, report: ApplyReport
) -> tuple[RowUpdate | None, Action | None]:
    """The row update for one answer, and a follow-up action (409 -> update)."""
    key, gid, want = action.cal_key, action.gid, action.want_hash
    if not isinstance(result, GoogleError):
        report.settled += 1
        if action.kind == "delete":
            return RowUpdate(key, gid, done_hash=want, remote="gone"), None
        return RowUpdate(key, gid, done_hash=want, etag=result.get("etag"), remote="present"), None
    if action.kind == "insert" and isinstance(result, Duplicate):
        return None, Action("update", key, action.calendar_id, gid, want, action.body)
    if action.kind == "delete" and isinstance(result, NotFound | Gone):
        report.settled += 1
        return RowUpdate(key, gid, done_hash=want, remote="gone"), None
    if isinstance(result, QuotaExceeded):
        report.quota = result
        return None, None
    report.failed += 1
    report.failed_gids.add(gid)
    message = str(result)
    report.last_error[key] = message
    if action.kind == "insert" and isinstance(result, NotFound):
        report.calendars_gone.add(key)
        return None, None
    if action.kind == "update" and isinstance(result, NotFound) and not _is_instance(gid):
        return RowUpdate(key, gid, forget=True, error=message), None
    if isinstance(result, RateLimited | Transient):
        return RowUpdate(key, gid, error=message), None
    # A permanent refusal of this content: not retried until the content changes.
    return RowUpdate(key, gid, failed_hash=want, error=message), None


NextBatch = Callable[[ApplyReport, set[str]], Sequence[Action]]
"""Plans the next batch: given the report so far and the ids in flight, up to ``batch_size``
actions (``settle`` ones included), or nothing when there is nothing more to send now."""


def pump(client: GoogleClient, status: StatusDB, next_batch: NextBatch) -> ApplyReport:
    """Keep ``client.tuning.concurrency`` batches in flight, planning each new batch when a
    worker frees up (so the quota is used continuously, not in waves), and record each
    batch's answers in this thread as soon as it returns: the worker threads only talk to
    Google, so the database sees one connection.

    Raises:
        NotAuthorized: the sign-in stopped working (answers so far are recorded).
        Interrupted: the client was closed.
    """
    report = ApplyReport()
    busy: set[str] = set()
    flying: dict[Future[list[Result]], list[Action]] = {}
    stop = threading.Event()

    def send(calls: list[Action]) -> list[Result]:
        if stop.is_set():
            return [Transient("not sent: writes stopped") for _ in calls]
        results = client.batch([request_for(a) for a in calls])
        if any(isinstance(r, QuotaExceeded) for r in results):
            stop.set()  # quotaExceeded: send nothing more to this account
        return results

    try:
        while True:
            while not stop.is_set() and len(flying) < max(1, client.tuning.concurrency):
                batch = list(next_batch(report, busy))
                if not batch:
                    break
                settle = [a for a in batch if a.kind == "settle"]
                if settle:
                    status.record(
                        [RowUpdate(a.cal_key, a.gid, done_hash=a.want_hash) for a in settle]
                    )
                    report.settled += len(settle)
                calls = [a for a in batch if a.kind != "settle"]
                if calls:
                    busy.update(a.gid for a in calls)
                    flying[client.submit(send, calls)] = calls
            if not flying:
                return report
            done, _ = wait(flying, return_when=FIRST_COMPLETED)
            for future in done:
                calls = flying.pop(future)
                _record(client, status, calls, future.result(), report)
                busy.difference_update(a.gid for a in calls)
                if report.quota is not None:
                    stop.set()
    finally:
        stop.set()


def apply_actions(client: GoogleClient, status: StatusDB, actions: Sequence[Action]) -> ApplyReport:
    """Run a fixed list of actions through ``pump``."""
    queue = list(actions)
    size = client.batch_size

    def next_batch(report: ApplyReport, busy: set[str]) -> Sequence[Action]:
        batch = queue[:size]
        del queue[:size]
        return batch

    return pump(client, status, next_batch)


def _record(
    client: GoogleClient,
    status: StatusDB,
    todo: list[Action],
    results: list[Result],
    report: ApplyReport,
) -> None:
    """Write what one batch's answers taught; an insert answered 409 is updated at once."""
    while todo:
        report.sent += len(todo)
        updates: list[RowUpdate] = []
        follow: list[Action] = []
        for action, result in zip(todo, results, strict=True):
            update, again = _judge(action, result, report)
            _log(action, result, again)
            if update is not None:
                updates.append(update)
            if again is not None:
                follow.append(again)
        status.record(updates)
        if report.quota is not None or not follow:
            return
        todo = follow
        results = client.batch([request_for(a) for a in todo])


def _log(action: Action, result: Result, again: Action | None) -> None:
    if not isinstance(result, GoogleError):
        outcome = "ok"
    elif again is not None:
        outcome = "id taken, updating instead"
    else:
        outcome = f"{type(result).__name__} {result.status} {result.reason}".strip()
    logger.info("google %s %s event %s: %s", action.kind, action.cal_key, action.gid, outcome)
