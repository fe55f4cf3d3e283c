"""Run only the CalDAV server: ``python -m bridge.caldav -c bridge.ini [--port N]``.

For conformance runs and benchmarks; ``ipoint-bridge serve`` runs it with everything else.
Prints ``caldav: URL`` once listening and stops on SIGTERM, SIGINT or end of standard input
(with ``--stdin``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from ..config import load
from . import start_caldav


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge.caldav", description=__doc__)
    parser.add_argument("-c", "--config", required=True, help="bridge INI file")
    parser.add_argument("--host", help="listen address (default: [caldav] host)")
    parser.add_argument("--port", type=int, help="port (default: [caldav] port; 0: any free)")
    parser.add_argument("--stdin", action="store_true", help="stop when standard input closes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load(args.config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    handle = start_caldav(settings, host=args.host, port=args.port)
    print(f"caldav: {handle.url}", flush=True)
    if args.stdin:

        def watch_stdin() -> None:
            sys.stdin.read()
            stop.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.wait(0.5):
        pass
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
