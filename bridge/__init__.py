"""ipoint-bridge: iPoint records as CalDAV/ICS calendars, mirrored into Google Calendar."""

__version__ = "0.1.0"
