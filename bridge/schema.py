"""The parts every INI section's schema is made of: ``opt`` (default, help and converter
together), the converters, and ``build`` (one section's options into its frozen dataclass, unknown
options and missing required ones refused with file, section, option and value named).

``bridge.config`` assembles the sections; packages with sections of their own
(``bridge.filemaker_settings``) use these too, so there is one way to declare an option.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .records import LOGIN_RE, LOGIN_RULE
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


def to_color(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValueError("expected a colour like #1E88E5")
    return value.upper()


def to_networks(text: str) -> tuple[str, ...]:
    items = to_list(text)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or network (CIDR)") from exc
    return items


def to_login(text: str) -> str:
    value = text.strip()
    # A login is a folder name in Radicale's storage and a path segment in every URL: no
    # slashes, no "." or "..", no leading dot (Radicale keeps its own files under ".Radicale").
    if not LOGIN_RE.fullmatch(value):
        raise ValueError(f"expected a login: {LOGIN_RULE}")
    return value


def build(cls: type, items: Mapping[str, str], file: str, section: str) -> Any:
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
