"""A local FileMaker Server Data API emulator (aiohttp), for tests, benches and ``demo``.

It answers at Claris' paths under ``/fmi/data/{v1,v2,vLatest}/``: sessions (Basic auth at
log-in, Bearer tokens that die after 15 idle minutes, 952 after), layout metadata, record ranges,
single records, creates, edits and deletes (modIds, an auto-enter modification timestamp),
``_find`` with FileMaker's find operators, portals, ``dateformats``, and Claris' envelope and
error codes. Behaviour follows Claris' FileMaker Data API Guide; where it is silent the choice is
named in the module that makes it. Fault injection, the clock, the bulk loader and request
counters live under ``/_emulator/``, a prefix FileMaker Server never uses.

Public API: :func:`create_app`, :class:`EmulatorSettings`, the file model
(:mod:`filemaker_emulator.model`), the demo file (:mod:`filemaker_emulator.ipoint_file`),
:mod:`filemaker_emulator.runner` (``start``) and :mod:`filemaker_emulator.testing`
(``run_emulator``, ``EmulatorThread``).
"""

from __future__ import annotations

from filemaker_emulator.app import create_app
from filemaker_emulator.state import EmulatorSettings

__all__ = ["EmulatorSettings", "create_app"]
