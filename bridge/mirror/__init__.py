"""The Google mirror: reads calendars through their feeds (CalDAV sync-collection, ICS
conditional GET), keeps a status database, and plans and applies the Google writes that make one
Google calendar per technician equal to its source. See docs/mirror.md.

Modules: ``ids`` (event ids), ``normalise`` (content hashes), ``mapping`` (VEVENT -> Google
body), ``caldav_client``/``ics_client``/``sources`` (readers), ``schema``/``status`` (tables),
``plan`` (pure planner), ``ingest`` (source pages into the tables), ``actions`` (Google writes),
``calendars`` (calendars and ACLs), ``engine`` (the mirror's shared state and worker thread),
``google_session`` (the Google client and the account's state), ``poll`` (read the sources),
``push`` (create calendars, send the queue, keep names and sharing), ``reconcile`` (repairing
hand edits), ``mirror_pass`` (one pass, the same for the daemon and every command),
``service`` (the daemon inside ``serve``).
"""
