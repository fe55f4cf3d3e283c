"""CLI subcommands. Each module here exposes ``register(subparsers)`` adding its commands;
a command's handler takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]
COMMAND_MODULES: tuple[str, ...] = (
    "bridge.commands.core",
    "bridge.commands.feeds",
    "bridge.commands.mirror",
    "bridge.commands.auth",
    "bridge.commands.users",
)
