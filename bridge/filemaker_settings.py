"""``[filemaker:NAME]``: one FileMaker layout read as a source of work orders or events.

The option names are a contract (admins and other tools write them). ``field.<ingest field> =
<FileMaker field>`` maps each ingest field (docs/ingest.md) to a field on the layout; FileMaker
keeps dates and times apart, so a start is either ``field.start_date`` (+ ``field.start_time``;
a date alone is all-day) or ``field.start`` (a timestamp field), and the end likewise (an
``end_time`` without an end date ends on the start's day). The id,
kind and modification time come from ``id_field``/``id_prefix``, ``kind`` and
``modified_field``, never from the map. Claris: the Data API must use https on a real server, so
plain http is accepted only for a loopback host (an emulator, or a proxy on the same machine).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .schema import build, opt, to_choice, to_float, to_int, to_url

#: Ingest fields a ``field.`` option may map (docs/ingest.md), and the FileMaker split of times.
MAPPABLE = (
    "user",
    "user_name",
    "attendees",
    "title",
    "start",
    "end",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "all_day",
    "timezone",
    "status",
    "rrule",
    "exdates",
    "location",
    "description",
    "customer",
    "phone",
    "url",
    "number",
    "work_status",
)
FIELD_PREFIX = "field."


def to_filemaker_url(text: str) -> str:
    value = to_url(text)
    parts = urlsplit(value)
    if parts.path not in ("", "/"):
        raise ValueError("give the server's address only, e.g. https://fms.example.com")
    if parts.scheme == "http" and not _loopback(parts.hostname or ""):
        raise ValueError("the Data API needs https (http only for 127.0.0.1, ::1 or localhost)")
    return value


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def to_portal_field(text: str) -> str:
    value = text.strip()
    table, sep, name = value.partition("::")
    if value and not (sep and table.strip() and name.strip()):
        raise ValueError("expected a related field as Table::Field, e.g. Event Attendees::Login")
    return value


@dataclass(frozen=True, slots=True)
class FileMakerSettings:
    """[filemaker:NAME]: a FileMaker layout read through the Data API."""

    url: str = opt(
        None,
        "FileMaker Server's address, e.g. https://fms.example.com (http only for loopback).",
        to_filemaker_url,
        required=True,
    )
    database: str = opt(None, "The hosted file's name, without .fmp12.", required=True)
    username: str = opt(
        None, "Account with the Data API privilege (fmrest), read-only.", required=True
    )
    password: str = opt("", "Its password; or use password_file. Keep this file 0600.")
    password_file: str = opt(
        "", "File holding the password (mode 0600), relative to data_dir; instead of password."
    )
    layout: str = opt(
        None, "The layout the bridge reads (only its fields are seen).", required=True
    )
    kind: str = opt(None, "work_order or event.", to_choice("work_order", "event"), required=True)
    id_field: str = opt(None, "iPoint's primary key field on the layout.", required=True)
    id_prefix: str = opt("", "Put before the key to make the bridge's record id, e.g. WO-.")
    modified_field: str = opt(
        None,
        "An auto-enter modification timestamp field on the layout (what polling finds on).",
        required=True,
    )
    attendees_portal: str = opt("", "Portal of further technicians (optional).")
    attendees_field: str = opt(
        "", "Field of their login in that portal, as Table::Field.", to_portal_field
    )
    poll_seconds: float = opt(5.0, "How often the layout is asked for changes.", to_float(1, 3600))
    reconcile_minutes: float = opt(
        15.0, "How often the set of keys is compared to find deletions.", to_float(1, 1440)
    )
    overlap_seconds: int = opt(
        10,
        "Each poll reads again from this long before the newest timestamp seen (several records "
        "share a second; a write may commit after its timestamp).",
        to_int(0, 3600),
    )
    page_size: int = opt(1000, "Records per Data API request.", to_int(1, 10000))
    max_delete_share: float = opt(
        0.25,
        "Deletions found at one reconcile above this share of the source's records are refused "
        "and shown on the admin page (a sudden mass deletion).",
        to_float(0.0, 1.0),
    )
    timeout_seconds: float = opt(30.0, "Timeout of one Data API request.", to_float(1, 600))
    max_response_bytes: int = opt(
        64 * 1024 * 1024, "Largest Data API answer read.", to_int(1024, 1024**3)
    )
    ca_file: str = opt(
        "", "PEM file of the CA that signed the server's certificate (self-signed servers)."
    )
    webhook_token: str = opt(
        "",
        "Bearer token FileMaker Server's webhook sends to make this source read now (it cannot "
        "write records); empty: the push API's [web] ingest_token.",
    )
    webhook_max_bytes: int = opt(
        256 * 1024,
        "Largest webhook body accepted (413 above); FileMaker sends the changed records' "
        "selected fields.",
        to_int(1024, 16 * 1024 * 1024),
    )
    fields: Mapping[str, str] = field(
        default_factory=dict,
        metadata={"help": "field.<ingest field> = <FileMaker field>", "convert": None},
    )
    """Ingest field -> FileMaker field, from the ``field.`` options."""

    def filemaker_fields(self) -> tuple[str, ...]:
        """Every field of the layout this source reads (key, timestamp and the map)."""
        names = [self.id_field, self.modified_field, *self.fields.values()]
        return tuple(dict.fromkeys(names))


def build_filemaker(items: Mapping[str, str], file: str, section: str) -> FileMakerSettings:
    """One ``[filemaker:NAME]`` section; ``ConfigError`` names what is wrong."""
    mapped: dict[str, str] = {}
    plain: dict[str, str] = {}
    for key, value in items.items():
        if key == "fields":
            raise ConfigError(
                "write each mapping as field.<ingest field> = <FileMaker field>",
                file=file,
                section=section,
                option=key,
            )
        if key.startswith(FIELD_PREFIX):
            name = key[len(FIELD_PREFIX) :]
            if name not in MAPPABLE:
                raise ConfigError(
                    "unknown ingest field (known: " + ", ".join(MAPPABLE) + ")",
                    file=file,
                    section=section,
                    option=key,
                )
            if not value.strip():
                raise ConfigError(
                    "names no FileMaker field", file=file, section=section, option=key
                )
            mapped[name] = value.strip()
        else:
            plain[key] = value
    settings: FileMakerSettings = build(FileMakerSettings, plain, file, section)
    settings = dataclasses.replace(settings, fields=mapped)
    _check(settings, file, section)
    return settings


def _check(s: FileMakerSettings, file: str, section: str) -> None:
    def fail(reason: str, option: str) -> None:
        raise ConfigError(reason, file=file, section=section, option=option)

    if bool(s.password) == bool(s.password_file):
        fail("give either password or password_file", "password")
    for name in ("user", "title"):
        if name not in s.fields:
            fail(f"the map needs field.{name}", FIELD_PREFIX + name)
    m = s.fields
    for edge in ("start", "end"):
        if edge in m and (f"{edge}_date" in m or f"{edge}_time" in m):
            fail(f"map either field.{edge} or field.{edge}_date/_time, not both", f"field.{edge}")
    if "start_time" in m and "start_date" not in m:
        fail("field.start_time needs field.start_date", "field.start_time")
    if "start" not in m and "start_date" not in m:
        fail("the map needs field.start, or field.start_date (and field.start_time)", "field.start")
    if bool(s.attendees_portal) != bool(s.attendees_field):
        fail("attendees_portal and attendees_field go together", "attendees_field")
    if s.attendees_field and "attendees" in m:
        fail("attendees come from the portal or from field.attendees, not both", "field.attendees")


def example_section(name: str = "workorders") -> list[str]:
    """The commented example of a section, for ``config.example()``."""
    lines = ["; " + (FileMakerSettings.__doc__ or "").strip(), f"; [filemaker:{name}]"]
    samples: dict[str, Any] = {
        "url": "https://fms.example.com",
        "database": "iPoint",
        "username": "bridge-reader",
        "password": "",
        "layout": "Bridge Work Orders",
        "kind": "work_order",
        "id_field": "Work Order ID",
        "id_prefix": "WO-",
        "modified_field": "Modified",
    }
    for f in dataclasses.fields(FileMakerSettings):
        if f.name == "fields":
            continue
        lines.append("; " + f.metadata["help"])
        value = samples.get(f.name, f.default)
        lines.append(f";{f.name} = {value}".rstrip())
    lines.append("; " + FileMakerSettings.__dataclass_fields__["fields"].metadata["help"])
    for ingest, fm_name in (
        ("user", "Technician Login"),
        ("user_name", "Technician Name"),
        ("title", "Work Order Name"),
        ("start_date", "Start Date"),
        ("start_time", "Start Time"),
        ("end_date", "End Date"),
        ("end_time", "End Time"),
        ("customer", "Customer"),
        ("location", "Site Address"),
        ("description", "Notes"),
    ):
        lines.append(f";field.{ingest} = {fm_name}")
    lines.append("")
    return lines
