"""Radicale's htpasswd auth, made to forget cached logins when the htpasswd file changes.

Radicale caches a successful login (``cache_logins``) for ``cache_successful_logins_expiry``
seconds (15 by default) without looking at the file again, so after ``users passwd`` or
``users remove`` the old password would keep working for that long. The file is rewritten by
rename (``htpasswd``), so its inode, size or mtime change with every edit: on any change this
class drops both login caches and makes Radicale re-read the file before the check. The cost
is one ``stat`` per login, which Radicale's own ``htpasswd_cache`` already pays.

Configured as ``[auth] type = bridge.caldav.auth`` (``radicale_config``); Radicale only keeps
its login cache for its own type names, so the base class is shown ``htpasswd``.
"""

from __future__ import annotations

import os
from typing import Any

from radicale.auth import htpasswd

MODULE = __name__


class _AsHtpasswd:
    """The configuration, except that the auth type reads as Radicale's own ``htpasswd``."""

    def __init__(self, configuration: Any) -> None:
        self._configuration = configuration

    def get(self, section: str, option: str) -> Any:
        if (section, option) == ("auth", "type"):
            return "htpasswd"
        return self._configuration.get(section, option)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._configuration, name)


class Auth(htpasswd.Auth):
    def __init__(self, configuration: Any) -> None:
        super().__init__(_AsHtpasswd(configuration))  # type: ignore[arg-type]
        self._stamp = self._file_stamp()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._filename)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    # Radicale marks login() final for its own auth types; this one only adds a cache check.
    def login(self, login: str, password: str, context: Any) -> Any:  # type: ignore[misc]
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    for cache in ("_cache_successful", "_cache_failed"):
                        getattr(self, cache, {}).clear()
                    self._htpasswd_size = -1  # Radicale re-reads the file at the next check
                    self._stamp = stamp
        return super().login(login, password, context)
