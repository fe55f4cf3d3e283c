"""``python -m google_emulator [--host H] [--port N] [--state FILE]``: run it standalone.

Prints the base URL (first line of stdout) once it listens, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from emulator_kit.serving import wait_for_signal

from google_emulator.runner import start
from google_emulator.settings import AccountSpec, EmulatorSettings


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m google_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state", type=Path, default=None, help="JSON file kept across restarts")
    parser.add_argument("--account", action="append", default=[], help="account e-mail (repeat)")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


async def _serve(settings: EmulatorSettings) -> None:
    handle = await start(settings)
    print(handle.base_url, flush=True)
    try:
        await wait_for_signal()
    finally:
        await handle.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    accounts = tuple(AccountSpec(a) for a in args.account) or EmulatorSettings().accounts
    settings = EmulatorSettings(
        host=args.host, port=args.port, state_path=args.state, accounts=accounts
    )
    asyncio.run(_serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
