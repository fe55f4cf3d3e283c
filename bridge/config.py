"""One typed INI schema for the whole bridge, read once into frozen settings.

Each section is a frozen dataclass whose fields carry their default, help text and converter
side by side (``opt``). Errors name the file, section, option and value; unknown sections and
options are errors. Relative paths are resolved against the data folder, which itself is
resolved against the config file's folder. The host's time zone is never read.
"""

from __future__ import annotations

import configparser
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .filemaker_settings import FileMakerSettings, build_filemaker, example_section
from .schema import (
    Converter,
    build,
    opt,
    to_bool,
    to_choice,
    to_color,
    to_emails,
    to_float,
    to_int,
    to_list,
    to_login,
    to_networks,
    to_url,
    to_zone,
)

__all__ = [
    "Converter",
    "FileMakerSettings",
    "Settings",
    "load",
    "opt",
    "parse",
    "to_bool",
    "to_choice",
    "to_color",
    "to_emails",
    "to_float",
    "to_int",
    "to_list",
    "to_login",
    "to_networks",
    "to_url",
    "to_zone",
]


@dataclass(frozen=True, slots=True)
class BridgeSettings:
    timezone: str = opt(
        None,
        "IANA time zone of the shop, e.g. America/Chicago. Required: "
        "naive iPoint times are read in it; the host's zone is never used.",
        to_zone,
        required=True,
    )
    data_dir: str = opt(
        "data",
        "Folder for the database, tokens and Radicale's own storage; "
        "relative to this file's folder.",
    )
    base_url: str = opt(
        "http://127.0.0.1:8080",
        "Public URL of the web server (feeds, admin, "
        "Google sign-in redirect). Use https in production.",
        to_url,
    )
    log_level: str = opt(
        "info", "debug, info, warning or error.", to_choice("debug", "info", "warning", "error")
    )
    instance_name: str = opt(
        "",
        "Name of this instance when several share one store (shown on the admin page as the "
        "one writing to Google); empty: hostname:pid.",
    )


@dataclass(frozen=True, slots=True)
class StoreSettings:
    backend: str = opt(
        "sqlite", "sqlite (embedded, default) or postgresql.", to_choice("sqlite", "postgresql")
    )
    path: str = opt("bridge.sqlite3", "SQLite file, relative to data_dir.")
    dsn: str = opt(
        "",
        "PostgreSQL connection string (backend = postgresql), e.g. "
        "postgresql://bridge@localhost/bridge",
    )


@dataclass(frozen=True, slots=True)
class WebSettings:
    host: str = opt("127.0.0.1", "Address the web server (ingest API, feeds, admin) listens on.")
    port: int = opt(8080, "Port of the web server.", to_int(0, 65535))
    ingest_token: str = opt(
        "",
        "Bearer token iPoint sends to the push API. Empty disables the API. Keep this file 0600.",
    )
    max_body_bytes: int = opt(
        16 * 1024 * 1024, "Largest request body accepted (413 above).", to_int(1024, 1024**3)
    )
    trusted_proxies: tuple[str, ...] = opt(
        (),
        "Addresses or networks (CIDR) of reverse proxies in front of the web server, e.g. "
        "127.0.0.1, ::1. Only requests from them have their X-Forwarded-For and "
        "X-Forwarded-Proto believed; the client is the rightmost address not in this list. "
        "Empty: the connection's address is the client's.",
        to_networks,
    )


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """Limits every ingest path (push API, import) applies to each record; a record over a
    limit is refused with a 4xx (or exit 2) naming the field."""

    max_title_chars: int = opt(
        1000, "Longest title (characters) of a record.", to_int(1, 1_000_000)
    )
    max_text_chars: int = opt(
        20000,
        "Longest other text field (description, location, customer, ...), in characters.",
        to_int(1, 10_000_000),
    )
    max_attendees: int = opt(
        50,
        "Most attendee logins on one record (each may become a calendar and a Google mirror).",
        to_int(0, 100_000),
    )
    max_instances: int = opt(
        5000,
        "Largest COUNT of a repeating record's rule (RFC 5545 RRULE). FREQ must be DAILY, "
        "WEEKLY, MONTHLY or YEARLY.",
        to_int(1, 1_000_000),
    )
    max_json_depth: int = opt(
        20,
        "Deepest nesting of arrays and objects in a pushed or imported JSON body.",
        to_int(3, 1000),
    )


@dataclass(frozen=True, slots=True)
class ImportSettings:
    max_delete_share: float = opt(
        0.25,
        "import --replace refuses to delete more than this share "
        "of a user's events without --force.",
        to_float(0.0, 1.0),
    )


@dataclass(frozen=True, slots=True)
class CalDAVSettings:
    enabled: bool = opt(True, "Serve CalDAV (Radicale with the iPoint storage plugin).", to_bool)
    host: str = opt("127.0.0.1", "Address the CalDAV server listens on.")
    port: int = opt(5232, "Port of the CalDAV server.", to_int(0, 65535))
    base_url: str = opt(
        "",
        "Public URL of the CalDAV server, shown on the admin page; empty: http://host:port. "
        "Behind a proxy, e.g. https://calendar.example.com/caldav (the proxy sends the path "
        "as X-Script-Name; see docs/deploy.md).",
    )
    htpasswd: str = opt(
        "users.htpasswd",
        "Radicale htpasswd file (bcrypt) of technicians' logins, relative to data_dir.",
    )
    color: str = opt("#1E88E5", "Colour of iPoint calendars.", to_color)
    collection_root: str = opt(
        "collections", "Radicale's own storage for personal calendars, relative to data_dir."
    )
    service_user: str = opt(
        "ipoint-mirror",
        "Login the mirror uses to read every iPoint calendar (must be in htpasswd).",
        to_login,
    )
    service_password: str = opt("", "Password of service_user (the mirror's CalDAV login).")
    workers: int = opt(
        8,
        "Threads answering complete CalDAV requests (one database connection each).",
        to_int(1, 256),
    )
    login_workers: int = opt(
        2,
        "Threads for requests whose credentials have not logged in lately (each costs a bcrypt "
        "check): password guessing queues there, not in front of logged-in users.",
        to_int(1, 64),
    )
    request_timeout: float = opt(
        30.0,
        "Seconds a client has to send its whole request (line, headers and body); 408 after. "
        "Requests are read before a worker takes them, so a slow client holds no worker.",
        to_float(1.0, 3600.0),
    )
    max_pending: int = opt(
        256,
        "Connections being read at once (and refusals waiting out their brute-force delay); "
        "above it the longest-waiting one is closed. Complete requests waiting for a worker "
        "have the same bound: above it a new one gets 503.",
        to_int(8, 65536),
    )
    max_pending_bytes: int = opt(
        64 * 1024 * 1024,
        "Bytes of request bodies buffered at once for connections still being read; above it "
        "the longest-waiting connection is closed. Complete requests waiting for a worker have "
        "the same bound: above it a new one gets 503.",
        to_int(1024 * 1024, 1024**3),
    )
    max_head_bytes: int = opt(
        16 * 1024,
        "Largest request line plus headers (431 above).",
        to_int(4096, 1024 * 1024),
    )
    max_body_bytes: int = opt(
        8 * 1024 * 1024,
        "Largest request body (413 above), e.g. a PUT of an event in a personal calendar.",
        to_int(1024, 1024**3),
    )
    max_xml_bytes: int = opt(
        1024 * 1024,
        "Largest XML request body (REPORT, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR; 413 above).",
        to_int(1024, 1024**3),
    )
    max_hrefs: int = opt(
        5000,
        "Most DAV:href elements in one request body, e.g. a calendar-multiget (400 above).",
        to_int(1, 1_000_000),
    )
    max_href_bytes: int = opt(
        2048,
        "Longest DAV:href in a request body, in characters (400 above).",
        to_int(64, 1024 * 1024),
    )
    max_expansion_steps: int = opt(
        10_000,
        "Most instances of one recurring event looked at to tell whether it falls in a "
        "time-range query; a series that needs more is answered as matching.",
        to_int(100, 100_000_000),
    )
    body_cache_bytes: int = opt(
        64 * 1024 * 1024,
        "Memory for gzipped whole-calendar bodies kept by ETag, so a repeat GET of an unchanged "
        "calendar is not rebuilt (per process; 0 turns it off).",
        to_int(0, 1024**3),
    )


@dataclass(frozen=True, slots=True)
class FeedSettings:
    window_past_days: int = opt(30, "Days of history in a subscription feed.", to_int(0, 3650))
    window_future_days: int = opt(180, "Days ahead in a subscription feed.", to_int(1, 3650))
    refresh_minutes: int = opt(
        60, "REFRESH-INTERVAL / X-PUBLISHED-TTL suggested to clients.", to_int(5, 1440)
    )
    cache_bytes: int = opt(
        32 * 1024 * 1024,
        "Memory for gzipped feed bodies kept by ETag, so a repeat fetch of an unchanged feed "
        "is not rebuilt (per process; 0 turns it off).",
        to_int(0, 1024**3),
    )


@dataclass(frozen=True, slots=True)
class GoogleSettings:
    enabled: bool = opt(False, "Mirror iPoint calendars into Google Calendar.", to_bool)
    api_endpoint: str = opt(
        "https://www.googleapis.com",
        "Google Calendar API root (point it at an emulator for tests).",
        to_url,
    )
    auth_uri: str = opt(
        "https://accounts.google.com/o/oauth2/v2/auth", "OAuth consent page.", to_url
    )
    token_uri: str = opt("https://oauth2.googleapis.com/token", "OAuth token endpoint.", to_url)
    revoke_uri: str = opt(
        "https://oauth2.googleapis.com/revoke", "OAuth revocation endpoint.", to_url
    )
    client_id: str = opt("", "OAuth client id of the shop's Google Cloud project.")
    client_secret: str = opt("", "OAuth client secret.")
    credentials: str = opt(
        "google-credentials.json",
        "Authorized-user JSON written by 'auth google' (0600), relative to data_dir.",
    )
    service_account: str = opt(
        "",
        "Service-account JSON key with domain-wide delegation "
        "(Workspace); used instead of credentials when set.",
    )
    delegated_user: str = opt("", "Workspace account the service account acts as.")
    calendar_name: str = opt(
        "iP {user_name}",
        "Name pattern of each technician's Google calendar; {user_name} and {user} are replaced.",
    )
    rate_per_minute: int = opt(
        400,
        "Google calls per minute at most (Google allows 600 per user per project).",
        to_int(1, 100000),
    )
    batch_size: int = opt(
        50, "Calls per batch request (Google recommends at most 50).", to_int(1, 1000)
    )
    parallel_batches: int = opt(
        2,
        "Batch requests in flight at once; raise it with a raised quota when Google "
        "answers slowly (rate_per_minute still caps the calls).",
        to_int(1, 32),
    )
    quota_pause_minutes: int = opt(60, "Pause of writes after 403 quotaExceeded.", to_int(1, 1440))
    color_work_order: str = opt("9", "Google colorId of work orders (1-11, empty: calendar's).")
    color_event: str = opt("", "Google colorId of events (1-11, empty: calendar's).")
    send_notifications: bool = opt(
        False, "E-mail people when a calendar is shared with them.", to_bool
    )


@dataclass(frozen=True, slots=True)
class MirrorSettings:
    interval_seconds: float = opt(
        1.0, "How often the mirror polls its sources for changes.", to_float(0.1, 3600)
    )
    reconcile_hours: float = opt(
        24.0, "How often the mirror lists Google to repair hand edits.", to_float(0.0, 720)
    )
    lease_seconds: float = opt(
        20.0,
        "Only one instance writes to Google, the holder of a lease in the store, renewed every "
        "quarter of this; when its holder dies another takes over within about 1.25 times this.",
        to_float(2.0, 600),
    )


@dataclass(frozen=True, slots=True)
class AdminSettings:
    username: str = opt("admin", "Admin page login.")
    password_hash: str = opt(
        "",
        "bcrypt hash of the admin password ('ipoint-bridge "
        "hash-password'). Empty disables the admin page.",
    )
    login_attempts: int = opt(
        5,
        "Sign-in attempts one client address may make per login_window_seconds; an attempt is "
        "counted before the password is checked, and a right password clears the count.",
        to_int(1, 1000),
    )
    login_window_seconds: float = opt(
        900.0, "The window over which sign-in attempts are counted.", to_float(1, 86400)
    )
    login_slowdown_after: int = opt(
        50,
        "Failed sign-ins from all addresses together in the window after which every attempt "
        "is slowed down (login_slowdown_seconds each) instead of anyone being locked out.",
        to_int(1, 1_000_000),
    )
    login_slowdown_seconds: float = opt(
        2.0, "The pause each sign-in attempt waits once slowed down.", to_float(0, 60)
    )
    login_checks_in_flight: int = opt(
        2,
        "Password checks (bcrypt, about 0.3 s of CPU each) one instance runs at once, and "
        "sign-in attempts one client address may have in flight (1 of them at most).",
        to_int(1, 64),
    )


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """[calendar:LOGIN]: per-technician options."""

    name: str = opt("", "Display name overriding iPoint's user_name.")
    share_with: tuple[str, ...] = opt(
        (), "E-mails that may see the Google calendar (reader: 'See all event details').", to_emails
    )
    share_domain: str = opt("", "Workspace domain whose members may see it.")
    public: bool = opt(
        False, "Make the Google calendar public and report its iCal address.", to_bool
    )
    readers: tuple[str, ...] = opt(
        (), "Other bridge logins (supervisors) who may read this calendar over CalDAV.", to_list
    )


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """[mirror:NAME]: another calendar mirrored into Google."""

    source: str = opt(None, "CalDAV collection or ICS URL.", to_url, required=True)
    username: str = opt("", "Login for the source, if it needs one.")
    password: str = opt("", "Password for the source.")
    calendar_name: str = opt("", "Google calendar name; empty: the section name.")


SECTIONS: dict[str, type] = {
    "bridge": BridgeSettings,
    "store": StoreSettings,
    "web": WebSettings,
    "ingest": IngestSettings,
    "import": ImportSettings,
    "caldav": CalDAVSettings,
    "feeds": FeedSettings,
    "google": GoogleSettings,
    "mirror": MirrorSettings,
    "admin": AdminSettings,
}
PATTERNS: dict[str, type] = {"calendar": CalendarSettings, "mirror": SourceSettings}


@dataclass(frozen=True, slots=True)
class Settings:
    bridge: BridgeSettings
    store: StoreSettings = field(default_factory=StoreSettings)
    web: WebSettings = field(default_factory=WebSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    import_: ImportSettings = field(default_factory=ImportSettings)
    caldav: CalDAVSettings = field(default_factory=CalDAVSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    google: GoogleSettings = field(default_factory=GoogleSettings)
    mirror: MirrorSettings = field(default_factory=MirrorSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    calendars: Mapping[str, CalendarSettings] = field(default_factory=dict)
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    filemaker: Mapping[str, FileMakerSettings] = field(default_factory=dict)
    """[filemaker:NAME] sources, by NAME."""
    path: str | None = None
    """The file these settings were read from."""

    @property
    def data_dir(self) -> Path:
        base = Path(self.path).parent if self.path else Path.cwd()
        return (base / self.bridge.data_dir).resolve()

    def data_path(self, value: str) -> Path:
        """An option's path, relative to the data folder unless absolute."""
        return self.data_dir / value

    def calendar(self, login: str) -> CalendarSettings:
        return self.calendars.get(login) or CalendarSettings()

    def caldav_url(self) -> str:
        return self.caldav.base_url or f"http://{self.caldav.host}:{self.caldav.port}"


def parse(text: str, file: str = "<string>") -> Settings:
    """Read one INI text into settings; ``ConfigError`` on the first fault."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00none")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=file)
    except configparser.Error as exc:
        raise ConfigError(f"not a valid INI file: {exc}".replace("\n", " "), file=file) from exc
    parts: dict[str, Any] = {}
    calendars: dict[str, CalendarSettings] = {}
    sources: dict[str, SourceSettings] = {}
    filemaker: dict[str, FileMakerSettings] = {}
    for section in parser.sections():
        items = dict(parser.items(section))
        if section in SECTIONS:
            key = "import_" if section == "import" else section
            parts[key] = build(SECTIONS[section], items, file, section)
            continue
        prefix, sep, name = section.partition(":")
        if sep and prefix == "filemaker" and name.strip():
            filemaker[name.strip()] = build_filemaker(items, file, section)
            continue
        if sep and prefix in PATTERNS and name.strip():
            built = build(PATTERNS[prefix], items, file, section)
            (calendars if prefix == "calendar" else sources)[name.strip()] = built
            continue
        known = ", ".join([*SECTIONS, "calendar:LOGIN", "mirror:NAME", "filemaker:NAME"])
        raise ConfigError(f"unknown section (known: {known})", file=file, section=section)
    if "bridge" not in parts:
        raise ConfigError(
            "section [bridge] with 'timezone' is required", file=file, section="bridge"
        )
    settings = Settings(
        **parts, calendars=calendars, sources=sources, filemaker=filemaker, path=file
    )
    _check(settings, file)
    return settings


def _check(settings: Settings, file: str) -> None:
    if settings.store.backend == "postgresql" and not settings.store.dsn:
        raise ConfigError(
            "backend = postgresql needs a dsn", file=file, section="store", option="dsn"
        )
    for option in ("color_work_order", "color_event"):
        value = getattr(settings.google, option)
        if value and not (value.isdigit() and 1 <= int(value) <= 11):
            raise ConfigError(
                "expected a Google colorId from 1 to 11, or empty",
                file=file,
                section="google",
                option=option,
                value=value,
            )
    try:
        settings.google.calendar_name.format(user="u", user_name="n")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            "may only use {user} and {user_name}",
            file=file,
            section="google",
            option="calendar_name",
            value=settings.google.calendar_name,
        ) from exc


def load(path: str | Path) -> Settings:
    """Read a config file; ``ConfigError`` names what is wrong and where."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(p)) from exc
    return parse(text, str(p.resolve()))


def example() -> str:
    """A commented INI listing every option with its help and default.

    Per-technician and extra-source sections are shown commented out, as patterns to copy.
    """
    out = [
        "; ipoint-bridge configuration: every option, with its help and default.",
        "; Copy to /etc/ipoint-bridge/bridge.ini (or pass -c FILE, or set IPOINT_BRIDGE_CONFIG),",
        "; edit, then check with: ipoint-bridge check",
        "",
    ]
    sections: list[tuple[str, type, bool]] = [(n, c, False) for n, c in SECTIONS.items()]
    sections += [
        ("calendar:chris", CalendarSettings, True),
        ("mirror:holidays", SourceSettings, True),
    ]
    for name, cls, pattern in sections:
        if pattern:
            out.append("; " + (cls.__doc__ or "").strip().split("\n")[0])
        out.append(("; " if pattern else "") + f"[{name}]")
        for f in dataclasses.fields(cls):
            out.append("; " + f.metadata["help"])
            default = f.default
            if isinstance(default, bool):
                text = "yes" if default else "no"
            elif isinstance(default, tuple):
                text = ", ".join(default)
            elif default is None:
                text = "America/Chicago" if f.name == "timezone" else "https://example.com/cal.ics"
            else:
                text = str(default)
            prefix = "" if f.metadata.get("required") and not pattern else ";"
            out.append(f"{prefix}{f.name} = {text}".rstrip())
        out.append("")
    out += example_section()
    return "\n".join(out)
