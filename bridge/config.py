"""One typed INI schema for the whole bridge, read once into frozen settings.

Each section is a frozen dataclass whose fields carry their default, help text and converter
side by side (``opt``). Errors name the file, section, option and value; unknown sections and
options are errors. Relative paths are resolved against the data folder, which itself is
resolved against the config file's folder. The host's time zone is never read.
"""

from __future__ import annotations

import configparser
import dataclasses
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .timeutil import zone

Converter = Callable[[str], Any]


def opt(default: Any, help: str, convert: Converter = str, *, required: bool = False) -> Any:
    """A schema option: default, help and converter together."""
    return field(default=default, metadata={"help": help, "convert": convert, "required": required})


def to_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "yes", "true", "on"):
        return True
    if value in ("0", "no", "false", "off"):
        return False
    raise ValueError("expected yes or no")


def to_int(lo: int, hi: int) -> Converter:
    def convert(text: str) -> int:
        value = int(text.strip())
        if not lo <= value <= hi:
            raise ValueError(f"expected a whole number from {lo} to {hi}")
        return value

    return convert


def to_float(lo: float, hi: float) -> Converter:
    def convert(text: str) -> float:
        value = float(text.strip())
        if not lo <= value <= hi:
            raise ValueError(f"expected a number from {lo} to {hi}")
        return value

    return convert


def to_choice(*choices: str) -> Converter:
    def convert(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value

    return convert


def to_zone(text: str) -> str:
    name = text.strip()
    zone(name)
    return name


def to_url(text: str) -> str:
    value = text.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
    return value


def to_list(text: str) -> tuple[str, ...]:
    return tuple(x for x in (p.strip() for p in re.split(r"[,\s]+", text)) if x)


def to_emails(text: str) -> tuple[str, ...]:
    items = to_list(text)
    for item in items:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", item):
            raise ValueError(f"{item!r} is not an e-mail address")
    return items


def to_networks(text: str) -> tuple[str, ...]:
    items = to_list(text)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or network (CIDR)") from exc
    return items


def to_color(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValueError("expected a colour like #1E88E5")
    return value.upper()


def to_login(text: str) -> str:
    value = text.strip()
    # A login is a folder name in Radicale's storage and a path segment in every URL: no
    # slashes, no "." or "..", no leading dot (Radicale keeps its own files under ".Radicale").
    if not re.fullmatch(r"[A-Za-z0-9_@-][A-Za-z0-9._@-]{0,63}", value):
        raise ValueError(
            "expected a login of at most 64 letters, digits, . _ @ - not starting with a dot"
        )
    return value


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


@dataclass(frozen=True, slots=True)
class FeedSettings:
    window_past_days: int = opt(30, "Days of history in a subscription feed.", to_int(0, 3650))
    window_future_days: int = opt(180, "Days ahead in a subscription feed.", to_int(1, 3650))
    refresh_minutes: int = opt(
        60, "REFRESH-INTERVAL / X-PUBLISHED-TTL suggested to clients.", to_int(5, 1440)
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
    import_: ImportSettings = field(default_factory=ImportSettings)
    caldav: CalDAVSettings = field(default_factory=CalDAVSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    google: GoogleSettings = field(default_factory=GoogleSettings)
    mirror: MirrorSettings = field(default_factory=MirrorSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    calendars: Mapping[str, CalendarSettings] = field(default_factory=dict)
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
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


def _build(cls: type, items: Mapping[str, str], file: str, section: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in items:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(
                f"unknown option (known: {known})", file=file, section=section, option=key
            )
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in items:
            raw = items[name]
            try:
                values[name] = f.metadata["convert"](raw)
            except ValueError as exc:
                raise ConfigError(
                    str(exc), file=file, section=section, option=name, value=raw
                ) from exc
        elif f.metadata.get("required"):
            raise ConfigError(
                "is required: " + f.metadata["help"], file=file, section=section, option=name
            )
    return cls(**values)


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
    for section in parser.sections():
        items = dict(parser.items(section))
        if section in SECTIONS:
            key = "import_" if section == "import" else section
            parts[key] = _build(SECTIONS[section], items, file, section)
            continue
        prefix, sep, name = section.partition(":")
        if sep and prefix in PATTERNS and name.strip():
            built = _build(PATTERNS[prefix], items, file, section)
            (calendars if prefix == "calendar" else sources)[name.strip()] = built
            continue
        known = ", ".join([*SECTIONS, "calendar:LOGIN", "mirror:NAME"])
        raise ConfigError(f"unknown section (known: {known})", file=file, section=section)
    if "bridge" not in parts:
        raise ConfigError(
            "section [bridge] with 'timezone' is required", file=file, section="bridge"
        )
    settings = Settings(**parts, calendars=calendars, sources=sources, path=file)
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
    return "\n".join(out)
