"""``ipoint-bridge users``: technicians' and supervisors' CalDAV logins (the htpasswd file).

- ``list``: every technician the store knows or the INI declares, every supervisor named in a
  ``[calendar:LOGIN] readers``, the mirror's service login and any other login in the file,
  each with whether it can sign in to CalDAV;
- ``add LOGIN`` / ``passwd LOGIN``: the password is asked twice on a terminal, read from the
  first line of standard input otherwise (for scripts), or made up and shown once
  (``--generate``);
- ``remove LOGIN``.

A running server takes every change at its next request (``bridge.caldav.auth``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ..config import Settings, to_login
from ..errors import ConfigError
from ..runtime import open_store
from .core import load_settings


def _login(text: str) -> str:
    try:
        return to_login(text)
    except ValueError as exc:
        raise ConfigError(f"login {text!r}: {exc}") from exc


def _read_password(login: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"New CalDAV password for {login}: ")
        if getpass.getpass("The same again: ") != first:
            raise ConfigError("the two passwords differ; nothing was changed")
        return first
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


def _set(settings: Settings, login: str, args: argparse.Namespace) -> None:
    # The CalDAV package is imported where it is used: it loads Radicale, which every other
    # command (``import`` above all) would otherwise pay for at each start.
    from ..caldav import htpasswd
    from ..caldav.radicale_config import htpasswd_path

    password = htpasswd.new_password() if args.generate else _read_password(login)
    try:
        htpasswd.set_password(htpasswd_path(settings), login, password)
    except ValueError as exc:
        raise ConfigError(f"{exc}; nothing was changed") from exc
    if args.generate:
        print(f"{login}: new CalDAV password (shown once): {password}")


def roles(settings: Settings) -> dict[str, list[str]]:
    """Login -> what it is, from the store, the INI and the htpasswd file."""
    from ..caldav import htpasswd
    from ..caldav.radicale_config import htpasswd_path

    out: dict[str, list[str]] = {}
    store = open_store(settings)
    try:
        names = {u.login: u.name for u in store.users()}
    finally:
        store.close()
    for login in settings.calendars:
        names.setdefault(login, "")
    for login, name in names.items():
        label = settings.calendar(login).name or name
        out.setdefault(login, []).append(f"technician ({label})" if label else "technician")
    for owner, cal in settings.calendars.items():
        for reader in cal.readers:
            out.setdefault(reader, []).append(f"reads {owner}")
    if settings.caldav.service_user:
        out.setdefault(settings.caldav.service_user, []).append("the mirror's service login")
    for login in htpasswd.logins(htpasswd_path(settings)):
        out.setdefault(login, ["personal calendars only"])
    return out


def cmd_list(args: argparse.Namespace) -> int:
    from ..caldav import htpasswd
    from ..caldav.radicale_config import htpasswd_path

    settings = load_settings(args)
    with_login = set(htpasswd.logins(htpasswd_path(settings)))
    table = [
        (login, "yes" if login in with_login else "no", ", ".join(what))
        for login, what in sorted(roles(settings).items())
    ]
    width = max([len("LOGIN"), *(len(row[0]) for row in table)])
    print(f"{'LOGIN':<{width}}  CALDAV  ROLE")
    for login, has, what in table:
        print(f"{login:<{width}}  {has:<6}  {what}")
    return 0


def _change(args: argparse.Namespace, *, new: bool) -> int:
    from ..caldav import htpasswd
    from ..caldav.radicale_config import htpasswd_path

    settings = load_settings(args)
    login = _login(args.login)
    if htpasswd.has_login(htpasswd_path(settings), login) == new:
        if new:
            raise ConfigError(f"{login} already has a CalDAV login; use 'users passwd {login}'")
        raise ConfigError(f"{login} has no CalDAV login; use 'users add {login}'")
    _set(settings, login, args)
    if new:
        print(f"{login}: CalDAV login added")
    else:
        print(f"{login}: CalDAV password changed; the old one no longer works")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    return _change(args, new=True)


def cmd_passwd(args: argparse.Namespace) -> int:
    return _change(args, new=False)


def cmd_remove(args: argparse.Namespace) -> int:
    from ..caldav import htpasswd
    from ..caldav.radicale_config import htpasswd_path

    settings = load_settings(args)
    login = _login(args.login)
    if not htpasswd.remove_login(htpasswd_path(settings), login):
        raise ConfigError(f"{login} has no CalDAV login")
    print(f"{login}: CalDAV login removed (their calendars and feed stay)")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="CalDAV logins of technicians and supervisors")
    actions = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    a = actions.add_parser("list", help="every technician and supervisor, with or without a login")
    a.set_defaults(handler=cmd_list)
    for name, handler, text in (
        ("add", cmd_add, "give LOGIN a CalDAV password"),
        ("passwd", cmd_passwd, "change LOGIN's CalDAV password"),
    ):
        a = actions.add_parser(
            name,
            help=text + " (asked twice on a terminal, else the first line of standard input)",
        )
        a.add_argument("login")
        a.add_argument(
            "--generate", action="store_true", help="make up a password and print it once"
        )
        a.set_defaults(handler=handler)
    a = actions.add_parser("remove", help="remove LOGIN's CalDAV login")
    a.add_argument("login")
    a.set_defaults(handler=cmd_remove)
