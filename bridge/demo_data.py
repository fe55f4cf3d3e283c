"""A believable small AV/low-voltage shop for ``ipoint-bridge demo``: three technicians and a
supervisor, work orders and events over the coming weeks, all-day and repeating events, and a
repeating meeting that crosses the next DST change. Records are raw ingest dicts, so the demo
goes through the same validation path as iPoint's pushes."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from .timeutil import zone

TECHNICIANS = {"chris": "Chris Miller", "dana": "Dana Lopez", "sam": "Sam Patel"}
SUPERVISOR = ("pat", "Pat Kim")
CUSTOMERS = [
    ("Hughes residence", "555-0142", "1840 Lakeview Dr, Naperville, IL"),
    ("Riverside Dental", "555-0178", "220 River Rd, Aurora, IL"),
    ("The Oak Room", "555-0119", "77 W Wacker Dr, Chicago, IL"),
    ("Kowalski home theater", "555-0163", "9 Birch Ct, Oak Park, IL"),
    ("St. Mark's School", "555-0190", "400 Church St, Evanston, IL"),
    ("Grant & Patel LLP", "555-0131", "1 N Dearborn St, Chicago, IL"),
    ("Nguyen residence", "555-0157", "53 Elm St, Wheaton, IL"),
    ("Brightline Fitness", "555-0104", "1200 Ogden Ave, Downers Grove, IL"),
]
JOBS = [
    ("Whole-home audio install", "Scheduled"),
    ("Camera system service call", "Scheduled"),
    ("Network rack cleanup", "Waiting for parts"),
    ("Conference room AV", "Scheduled"),
    ("Lighting control programming", "In progress"),
    ("Wi-Fi survey", "Scheduled"),
    ("TV mount and calibration", "Scheduled"),
    ("Security panel upgrade", "Quoted"),
]


def next_dst_change(start: date, tzname: str) -> date | None:
    """The first day on or after ``start`` whose UTC offset differs from the day before."""
    tz = zone(tzname)
    day = start
    for _ in range(400):
        a = datetime(day.year, day.month, day.day, 12, tzinfo=tz).utcoffset()
        nxt = day + timedelta(days=1)
        b = datetime(nxt.year, nxt.month, nxt.day, 12, tzinfo=tz).utcoffset()
        if a != b:
            return nxt
        day = nxt
    return None


def demo_records(today: date, tzname: str, seed: int = 20261125) -> list[dict[str, object]]:
    """Raw ingest records around ``today`` (a few weeks back, and past the next DST change)."""
    rnd = random.Random(seed)
    out: list[dict[str, object]] = []
    number = 4100
    dst = next_dst_change(today, tzname) or today + timedelta(days=90)
    horizon = max(42, (dst - today).days + 14)
    for offset in range(-14, horizon):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for login, name in TECHNICIANS.items():
            if rnd.random() < 0.3:
                continue
            customer, phone, address = rnd.choice(CUSTOMERS)
            job, status = rnd.choice(JOBS)
            hour = rnd.choice([8, 9, 10, 13])
            length = rnd.choice([1, 2, 2, 3, 4])
            number += 1
            out.append(
                {
                    "id": f"WO-{number}",
                    "user": login,
                    "user_name": name,
                    "kind": "work_order",
                    "number": str(number),
                    "title": f"{job} – {customer}",
                    "work_status": status,
                    "customer": customer,
                    "phone": phone,
                    "location": address,
                    "description": "Check in with the office on arrival. Photos of the rack "
                    "before and after.",
                    "start": f"{day.isoformat()}T{hour:02d}:00",
                    "end": f"{day.isoformat()}T{hour + length:02d}:00",
                }
            )
    monday = today - timedelta(days=today.weekday())
    out.append(
        {
            "id": "EV-team-meeting",
            "user": "pat",
            "user_name": SUPERVISOR[1],
            "attendees": list(TECHNICIANS),
            "title": "Monday team meeting",
            "location": "Shop, 300 Industrial Dr",
            "start": f"{monday.isoformat()}T07:30",
            "end": f"{monday.isoformat()}T08:00",
            "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "exdates": [(monday + timedelta(weeks=5)).isoformat()],
        }
    )
    out.append(
        {
            "id": "EV-dst-check",
            "user": "chris",
            "user_name": TECHNICIANS["chris"],
            "title": "Service call on the DST weekend (times stay put)",
            "start": f"{dst.isoformat()}T09:00",
            "end": f"{dst.isoformat()}T11:00",
            "customer": "Hughes residence",
            "kind": "work_order",
            "number": "4099",
        }
    )
    trade = today + timedelta(days=(2 - today.weekday()) % 7 + 21)
    out.append(
        {
            "id": "EV-trade-show",
            "user": "dana",
            "user_name": TECHNICIANS["dana"],
            "attendees": ["sam"],
            "title": "Integrators trade show",
            "start": trade.isoformat(),
            "end": (trade + timedelta(days=2)).isoformat(),
            "location": "McCormick Place, Chicago",
        }
    )
    for login in TECHNICIANS:
        vac = today + timedelta(days=rnd.randrange(20, 60))
        out.append(
            {
                "id": f"EV-pto-{login}",
                "user": login,
                "user_name": TECHNICIANS[login],
                "title": "Out of office",
                "start": vac.isoformat(),
                "all_day": True,
                "status": "tentative" if login == "sam" else "confirmed",
            }
        )
    out.append(
        {
            "id": "EV-truck-stock",
            "user": "sam",
            "user_name": TECHNICIANS["sam"],
            "title": "Restock van",
            "start": f"{monday.isoformat()}T16:00",
            "end": f"{monday.isoformat()}T17:00",
            "rrule": "FREQ=WEEKLY;BYDAY=FR;COUNT=10",
        }
    )
    return out
