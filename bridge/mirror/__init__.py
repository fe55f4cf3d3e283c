"""The Google mirror: reads calendars through their feeds (CalDAV sync-collection, ICS
conditional GET), keeps a status database, and plans and applies the Google writes that make one
Google calendar per technician equal to its source. See docs/mirror.md.

Modules: ``ids`` (event ids), ``normalise`` (content hashes), ``mapping`` (VEVENT -> Google
body), ``caldav``/``ics``/``sources`` (readers), ``schema``/``status`` (tables), ``plan`` (pure
planner), ``ingest`` (source pages into the tables), ``actions`` (Google writes), ``calendars``
(calendars and ACLs), ``reconcile`` (repairing hand edits), ``engine`` (one pass), ``service``
(the daemon inside ``serve``).
"""
