"""Google Calendar access for the mirror: credentials (``credentials``), the one call wrapper
(``client``) and its error tree (``errors``). Nothing else in the bridge talks to Google."""
