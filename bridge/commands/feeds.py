"""``ipoint-bridge feeds``: show or rotate a calendar's secret subscription URL."""

from __future__ import annotations

import argparse
from typing import Any

from ..config import Settings
from ..errors import ConfigError
from ..runtime import open_store
from ..store import EventStore
from .core import load_settings


def _calendar(settings: Settings, store: EventStore, login: str) -> str:
    if store.user(login) is None:
        if login not in settings.calendars:
            raise ConfigError(
                f"no iPoint calendar for {login!r} (no events yet and no [calendar:{login}])"
            )
        store.ensure_user(login, settings.calendar(login).name or None)
    return login


def _print(settings: Settings, login: str, token: str) -> None:
    # Imported here: the web layer brings aiohttp, which every other command would pay for.
    from ..web.feeds import MAX_URL, feed_url, webcal_url

    url = feed_url(settings, token)
    print(f"{login}: {url}")
    print(f"{login}: {webcal_url(url)}")
    if len(url) > MAX_URL:
        print(f"warning: the URL is {len(url)} characters; Google accepts at most {MAX_URL}")
    if url.startswith("http://"):
        print("note: Outlook on the web needs https; set [bridge] base_url to an https URL")


def cmd_show(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    store = open_store(settings)
    try:
        login = _calendar(settings, store, args.user)
        _print(settings, login, store.feed_token(login))
    finally:
        store.close()
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    store = open_store(settings)
    try:
        login = _calendar(settings, store, args.user)
        token = store.rotate_feed_token(login)
        print(f"{login}: the old feed URL no longer works; subscribers need the new one:")
        _print(settings, login, token)
    finally:
        store.close()
    return 0


def register(sub: Any) -> None:
    feeds = sub.add_parser("feeds", help="secret subscription URLs of iPoint calendars")
    actions = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    p = actions.add_parser("show", help="print a calendar's feed URL (https/http and webcal)")
    p.add_argument("user", help="technician login")
    p.set_defaults(handler=cmd_show)
    p = actions.add_parser("rotate", help="replace a calendar's feed URL; the old one stops")
    p.add_argument("user", help="technician login")
    p.set_defaults(handler=cmd_rotate)
