"""``python -m filemaker_emulator [--host H] [--port N] [--sample]``: run it standalone.

Serves the iPoint-like file (``--sample``: filled with a few weeks of records). Prints the base URL
(first line of stdout) once it listens, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys

from emulator_kit.serving import wait_for_signal

from filemaker_emulator.ipoint_file import DATABASE, sample_rows
from filemaker_emulator.runner import start
from filemaker_emulator.state import EmulatorSettings


async def _serve(settings: EmulatorSettings, sample: bool) -> None:
    handle = await start(settings)
    if sample:
        db = handle.state.database(DATABASE)
        for table, rows in sample_rows(dt.date.today()).items():
            db.load(table, rows)
    print(handle.base_url, flush=True)
    try:
        await wait_for_signal()
    finally:
        await handle.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m filemaker_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--sample", action="store_true", help="load the sample records")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    asyncio.run(_serve(EmulatorSettings(host=args.host, port=args.port), args.sample))
    return 0


if __name__ == "__main__":
    sys.exit(main())
