"""A small iPoint-like FileMaker file: technicians, work orders, events with attendees.

The layouts are what an admin creates for the bridge (docs: "Connect to iPoint"): ``Bridge Work
Orders`` (one technician per work order; dates and times in separate fields, as iPoint keeps
them), ``Bridge Events`` (start and end timestamps; further technicians in the ``Event
Attendees`` portal) and ``Technicians``. Every table has an auto-enter modification timestamp
``Modified``. The account ``bridge-reader`` / ``bridge-reader-password`` has the Data API
privilege. ``sample_rows`` fills it with a few weeks of believable records (US formats).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from filemaker_emulator.model import FieldSpec, FileSpec, LayoutSpec, PortalSpec, TableSpec

DATABASE = "iPoint"
USERNAME = "bridge-reader"
PASSWORD = "bridge-reader-password"
WORK_ORDER_LAYOUT = "Bridge Work Orders"
EVENT_LAYOUT = "Bridge Events"
TECHNICIAN_LAYOUT = "Technicians"

_MODIFIED = FieldSpec("Modified", "timeStamp", auto_modified=True)

TECHNICIANS = TableSpec(
    "Technicians",
    (
        FieldSpec("Technician ID"),
        FieldSpec("Login"),
        FieldSpec("Name"),
        FieldSpec("Email"),
        _MODIFIED,
    ),
)
WORK_ORDERS = TableSpec(
    "Work Orders",
    (
        FieldSpec("Work Order ID"),
        FieldSpec("Work Order Number", "number"),
        FieldSpec("Work Order Name"),
        FieldSpec("Technician Login"),
        FieldSpec("Technician Name"),
        FieldSpec("Customer"),
        FieldSpec("Customer Phone"),
        FieldSpec("Site Address"),
        FieldSpec("Notes"),
        FieldSpec("Status"),
        FieldSpec("Start Date", "date"),
        FieldSpec("Start Time", "time"),
        FieldSpec("End Date", "date"),
        FieldSpec("End Time", "time"),
        _MODIFIED,
    ),
)
EVENTS = TableSpec(
    "Events",
    (
        FieldSpec("Event ID"),
        FieldSpec("Event Name"),
        FieldSpec("Organizer Login"),
        FieldSpec("Location"),
        FieldSpec("Description"),
        FieldSpec("Start", "timeStamp"),
        FieldSpec("End", "timeStamp"),
        _MODIFIED,
    ),
)
ATTENDEES = TableSpec("Event Attendees", (FieldSpec("Login"), FieldSpec("Role")))

IPOINT_FILE = FileSpec(
    name=DATABASE,
    accounts=((USERNAME, PASSWORD), ("Admin", "admin-password")),
    tables=(TECHNICIANS, WORK_ORDERS, EVENTS, ATTENDEES),
    layouts=(
        LayoutSpec(WORK_ORDER_LAYOUT, "Work Orders", tuple(f.name for f in WORK_ORDERS.fields)),
        LayoutSpec(
            EVENT_LAYOUT,
            "Events",
            tuple(f.name for f in EVENTS.fields),
            (PortalSpec("Event Attendees", "Event Attendees", ("Login", "Role")),),
        ),
        LayoutSpec(TECHNICIAN_LAYOUT, "Technicians", tuple(f.name for f in TECHNICIANS.fields)),
    ),
    time_zone="America/Chicago",
)

PEOPLE = {"chris": "Chris Miller", "dana": "Dana Lopez", "sam": "Sam Patel", "pat": "Pat Kim"}
_CUSTOMERS = [
    ("Hughes residence", "555-0142", "1840 Lakeview Dr, Naperville, IL"),
    ("Riverside Dental", "555-0178", "220 River Rd, Aurora, IL"),
    ("The Oak Room", "555-0119", "77 W Wacker Dr, Chicago, IL"),
    ("St. Mark's School", "555-0190", "400 Church St, Evanston, IL"),
]
_JOBS = [
    "Whole-home audio install",
    "Camera system service call",
    "Network rack cleanup",
    "Conference room AV",
    "Wi-Fi survey",
    "TV mount and calibration",
]


def _us(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def sample_rows(today: dt.date, seed: int = 20261127) -> dict[str, list[dict[str, Any]]]:
    """Rows for ``Database.load`` per table: about three weeks of work orders and some events."""
    rnd = random.Random(seed)
    technicians = [
        {"Technician ID": f"T-{i}", "Login": login, "Name": name, "Email": f"{login}@example.com"}
        for i, (login, name) in enumerate(PEOPLE.items(), 1)
    ]
    work_orders: list[dict[str, Any]] = []
    number = 5100
    for offset in range(-7, 21):
        day = today + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for login in ("chris", "dana", "sam"):
            if rnd.random() < 0.35:
                continue
            number += 1
            customer, phone, address = rnd.choice(_CUSTOMERS)
            hour, length = rnd.choice([8, 9, 13]), rnd.choice([1, 2, 3])
            work_orders.append(
                {
                    "Work Order ID": str(number),
                    "Work Order Number": number,
                    "Work Order Name": f"{rnd.choice(_JOBS)} – {customer}",
                    "Technician Login": login,
                    "Technician Name": PEOPLE[login],
                    "Customer": customer,
                    "Customer Phone": phone,
                    "Site Address": address,
                    "Notes": "Call the office on arrival.\vPhotos of the rack before and after.",
                    "Status": "Scheduled",
                    "Start Date": _us(day),
                    "Start Time": f"{hour:02d}:00:00",
                    "End Date": _us(day),
                    "End Time": f"{hour + length:02d}:00:00",
                }
            )
    monday = today - dt.timedelta(days=today.weekday())
    events: list[dict[str, Any]] = []
    for week in range(4):
        day = monday + dt.timedelta(weeks=week)
        events.append(
            {
                "Event ID": f"{700 + week}",
                "Event Name": "Monday team meeting",
                "Organizer Login": "pat",
                "Location": "Shop, 300 Industrial Dr",
                "Description": "Agenda:\vsafety\vweek's jobs",
                "Start": f"{_us(day)} 07:30:00",
                "End": f"{_us(day)} 08:00:00",
                "portalData": {
                    "Event Attendees": [
                        {"Event Attendees::Login": login, "Event Attendees::Role": "Required"}
                        for login in ("chris", "dana", "sam")
                    ]
                },
            }
        )
    return {"Technicians": technicians, "Work Orders": work_orders, "Events": events}
