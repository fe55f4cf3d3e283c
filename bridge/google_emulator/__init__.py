"""A local Google Calendar API v3 emulator (aiohttp), for tests, benches and ``ipoint-bridge demo``.

It answers at Google's own paths under one root: the Calendar API (``/calendar/v3/...``), its batch
endpoint (``/batch/calendar/v3``), the OAuth 2.0 endpoints (``/o/oauth2/v2/auth``, ``/token``,
``/revoke``, ``/tokeninfo``, ``/oauth2/v3/userinfo``) and the public iCal address
(``/calendar/ical/<calendarId>/public/basic.ics``). Behaviour follows Google's documentation (error
envelopes, client-chosen ids, soft deletes, sync tokens, quotas); where the documentation is silent
the choice is named in the module that makes it. Fault injection and inspection live under
``/_emulator/``, a prefix Google never uses.

Public API: :func:`create_app`, :class:`EmulatorSettings` and, for tests,
:mod:`bridge.google_emulator.testing`.
"""

from __future__ import annotations

from bridge.google_emulator.app import create_app
from bridge.google_emulator.settings import AccountSpec, EmulatorSettings, OAuthClientSpec

__all__ = ["AccountSpec", "EmulatorSettings", "OAuthClientSpec", "create_app"]
