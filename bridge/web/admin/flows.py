"""Sign-ins in progress on the admin page: each ``state`` bound to the session that started it.

A state is single use: it is consumed before the code is exchanged, and remembered for a while
afterwards so a replay is refused with a clear reason. A callback whose state belongs to
another session is refused but leaves the state pending, so the admin can still paste the
address into the session that started it ("Having trouble?").
"""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from ...google.oauth_flow import AuthRequest

PENDING_SECONDS = 15 * 60
USED_MEMORY_SECONDS = 24 * 3600
MAX_PENDING = 50
MAX_USED = 1000


@dataclass(frozen=True, slots=True)
class PendingFlow:
    request: AuthRequest
    session_id: str
    started: float


Verdict = Literal["ok", "unknown", "used", "expired", "wrong_session"]

REFUSALS: dict[str, str] = {
    "unknown": "This sign-in answer does not belong to any sign-in started here. It was refused "
    "(it may be forged, or the bridge was restarted since the sign-in began). Start again.",
    "used": "This sign-in answer was already used once and cannot be used again. If you want "
    'to sign in again, press "Sign in with Google".',
    "expired": "This sign-in took too long and has expired. Start again.",
    "wrong_session": "This sign-in was started from another browser or admin session, so it "
    'was refused here. If you used "Having trouble?", copy this page\'s full address from the '
    "address bar and paste it on the admin page where you started.",
}


class FlowStore:
    """Pending sign-ins by state, and recently used states."""

    def __init__(self) -> None:
        self._pending: OrderedDict[str, PendingFlow] = OrderedDict()
        self._used: OrderedDict[str, float] = OrderedDict()

    def _prune(self, now: float) -> None:
        for state, flow in list(self._pending.items()):
            if now - flow.started > PENDING_SECONDS * 4:
                del self._pending[state]
        for state, at in list(self._used.items()):
            if now - at > USED_MEMORY_SECONDS:
                del self._used[state]
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)
        while len(self._used) > MAX_USED:
            self._used.popitem(last=False)

    def add(self, request: AuthRequest, session_id: str) -> None:
        now = time.time()
        self._prune(now)
        self._pending[request.state] = PendingFlow(request, session_id, now)

    def take(self, state: str, session_id: str) -> tuple[Verdict, PendingFlow | None]:
        """Consume ``state`` for ``session_id``; the verdict says why it was refused."""
        now = time.time()
        self._prune(now)
        if not state:
            return "unknown", None
        flow = self._pending.get(state)
        if flow is None:
            return ("used" if state in self._used else "unknown"), None
        if not hmac.compare_digest(flow.session_id, session_id):
            return "wrong_session", None
        del self._pending[state]
        self._used[state] = now
        if now - flow.started > PENDING_SECONDS:
            return "expired", None
        return "ok", flow

    def peek(self, state: str) -> PendingFlow | None:
        return self._pending.get(state)

    def drop_session(self, session_id: str) -> None:
        for state, flow in list(self._pending.items()):
            if flow.session_id == session_id:
                del self._pending[state]
