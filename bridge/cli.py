"""The ``ipoint-bridge`` command: parses arguments, configures logging, turns errors into
exit codes (0 success, 1 failure at run time, 2 bad input or configuration)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .commands import COMMAND_MODULES
from .errors import BridgeError, ConfigError, SafetyValveError, ValidationError
from .logs import setup_logging

logger = logging.getLogger("bridge")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipoint-bridge",
        description="iPoint work orders and events as CalDAV/ICS calendars, mirrored into Google.",
    )
    parser.add_argument("-c", "--config", help="INI configuration file")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"ipoint-bridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    setup_logging("debug" if args.verbose else "info")
    try:
        code: int = args.handler(args)
        return code
    except ValidationError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was changed", file=sys.stderr)
        return 2
    except (ConfigError, SafetyValveError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
