"""A local Google Calendar API v3 emulator (aiohttp), for tests, benches and ``ipoint-bridge demo``.

It answers at Google's own paths under one root: the Calendar API (``/calendar/v3/...``), its batch
endpoint (``/batch/calendar/v3``), the OAuth 2.0 endpoints (``/o/oauth2/v2/auth``, ``/token``,
``/revoke``, ``/tokeninfo``, ``/oauth2/v3/userinfo``) and the public iCal address
(``/calendar/ical/<calendarId>/public/basic.ics``). Behaviour follows Google's documentation (error
envelopes, client-chosen ids, soft deletes, sync tokens, quotas); where the documentation is silent
the choice is named in the module that makes it. Fault injection and inspection live under
``/_emulator/``, a prefix Google never uses.

Public API: :func:`create_app`, :class:`EmulatorSettings`; :mod:`google_emulator.runner`
(``start_emulator`` for ``demo``) and :mod:`google_emulator.testing` (``run_emulator``,
``EmulatorThread``, ``api_endpoint``, ``batch_uri``). With google-api-python-client pass
``client_options={"api_endpoint": base_url + "/calendar/v3/"}`` (it replaces rootUrl+servicePath)
and ``BatchHttpRequest(batch_uri=base_url + "/batch/calendar/v3")``.
"""

from __future__ import annotations

from google_emulator.app import create_app
from google_emulator.settings import AccountSpec, EmulatorSettings, OAuthClientSpec

__all__ = ["AccountSpec", "EmulatorSettings", "OAuthClientSpec", "create_app"]
