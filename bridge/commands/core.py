"""Core commands: check, import, serve, demo, hash-password."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import config
from ..config_file import load_located
from ..importer import read_records
from ..logs import setup_logging
from ..progress import Progress
from ..runtime import open_store
from ..validate import validate_batch


def load_settings(args: argparse.Namespace) -> config.Settings:
    """The settings from ``-c``, ``$IPOINT_BRIDGE_CONFIG`` or /etc/ipoint-bridge/bridge.ini."""
    return load_located(args.config)


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    print(
        f"{settings.path}: OK (time zone {settings.bridge.timezone}, data in {settings.data_dir})"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    raws = read_records(Path(args.file))
    with Progress("import: checking", len(raws), unit="records") as checking:

        def counted() -> Iterator[tuple[int | None, object]]:
            for item in raws:
                yield item
                checking.advance()

        records = validate_batch(counted(), settings.bridge.timezone)
    store = open_store(settings)
    try:
        replace = {r.user for r in records} if args.replace else None
        if args.replace and args.user:
            replace = set(args.user)
        with Progress("import: writing", len(records), unit="records") as writing:
            result = store.apply(
                records,
                replace_users=replace,
                max_delete_share=settings.import_.max_delete_share,
                force=args.force,
                progress=lambda done: writing.update(min(done, len(records))),
            )
    finally:
        store.close()
    summary = ", ".join(f"{v} {k}" for k, v in result.summary().items() if v)
    print(f"{args.file}: {len(records)} records: {summary or 'nothing to do'}")
    for outcome in result.outcomes:
        if outcome.result == "stale":
            print(f"ignored {outcome.id}: {outcome.reason}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ..serve import run

    settings = load_settings(args)
    setup_logging("debug" if args.verbose else settings.bridge.log_level)
    return run(settings)


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(
        Path(args.data),
        web_port=args.port,
        caldav_port=args.caldav_port,
        google_port=args.google_port,
    )


def cmd_hash_password(args: argparse.Namespace) -> int:
    import bcrypt

    password = args.password if args.password is not None else getpass.getpass("Password: ")
    if not password:
        print("error: empty password", file=sys.stderr)
        return 2
    print(bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode())
    return 0


def cmd_config_example(args: argparse.Namespace) -> int:
    sys.stdout.write(config.example() + "\n")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="the configuration file")
    actions = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    e = actions.add_parser(
        "example",
        help="print a commented configuration with every option, its help and default "
        "(the same file ships with the package as bridge/data/bridge.example.ini)",
    )
    e.set_defaults(handler=cmd_config_example)

    p = sub.add_parser("check", help="validate the configuration file")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("import", help="import an iPoint export (JSON, JSON lines, CSV)")
    p.add_argument("file")
    p.add_argument(
        "--replace",
        action="store_true",
        help="the file is the complete set for its users: delete what it lacks",
    )
    p.add_argument(
        "--user",
        action="append",
        help="with --replace: the users the file is complete for (default: those in it)",
    )
    p.add_argument("--force", action="store_true", help="skip the mass-delete safety valve")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("serve", help="run CalDAV, web server (API, feeds, admin) and mirror")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("demo", help="run a complete demo shop with no configuration")
    p.add_argument("--data", default="ipoint-bridge-demo", help="demo folder (created)")
    p.add_argument("--port", type=int, default=8080, help="web server port")
    p.add_argument("--caldav-port", type=int, default=5232, help="CalDAV port")
    p.add_argument("--google-port", type=int, default=8095, help="Google emulator port")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("hash-password", help="print a bcrypt hash for [admin] password_hash")
    p.add_argument("--password", help="(default: ask)")
    p.set_defaults(handler=cmd_hash_password)
