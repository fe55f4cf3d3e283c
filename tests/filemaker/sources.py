"""The [filemaker:NAME] sections the FileMaker tests read: iPoint's work orders (dates and times
apart) and events (timestamps, attendees in a portal), as the demo file lays them out."""

from __future__ import annotations

from bridge import config
from bridge.filemaker.settings import FileMakerSettings

TZ = "America/Chicago"
WORK_ORDERS = """
[filemaker:wo]
url = https://fms.example.com
database = iPoint
username = bridge-reader
password = secret
layout = Bridge Work Orders
kind = work_order
id_field = Work Order ID
id_prefix = WO-
modified_field = Modified
field.user = Technician Login
field.title = Work Order Name
field.start_date = Start Date
field.start_time = Start Time
field.end_date = End Date
field.end_time = End Time
field.description = Notes
"""
EVENTS = """
[filemaker:ev]
url = https://fms.example.com
database = iPoint
username = bridge-reader
password = secret
layout = Bridge Events
kind = event
id_field = Event ID
id_prefix = EV-
modified_field = Modified
field.user = Organizer Login
field.title = Event Name
field.start = Start
field.end = End
attendees_portal = Event Attendees
attendees_field = Event Attendees::Login
"""


def source(text: str, name: str) -> FileMakerSettings:
    return config.parse(f"[bridge]\ntimezone = {TZ}\n{text}", "t.ini").filemaker[name]
