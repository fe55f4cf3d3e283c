"""Logging for every entry point: one format, timestamps in UTC (the host's time zone is never
used, not even in logs), and the HTTP client libraries kept quiet (they log request details,
and so tokens, at DEBUG)."""

from __future__ import annotations

import logging
import sys
import time


def setup_logging(level: str) -> None:
    logging.Formatter.converter = time.gmtime
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)sZ %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # HTTP client libraries log request details (and so tokens) at DEBUG; keep them quiet.
    for noisy in ("googleapiclient.discovery_cache", "urllib3", "httplib2", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
