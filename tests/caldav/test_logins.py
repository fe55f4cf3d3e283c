"""CalDAV logins managed with ``ipoint-bridge users`` while the server runs: a new login works
at once, a changed password replaces the old one at once (Radicale's login cache included), a
removed login stops at once; bad logins are refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bridge.caldav import set_password
from tests.caldav.conftest import PASSWORD, Server, auth, serving
from tests.support import CLI, ROOT, http, run_cli, run_in_pty

PROPFIND = {"Depth": "0"}


def status(server: Server, login: str, password: str, path: str = "") -> int:
    path = path or f"/{login}/"
    return http("PROPFIND", server.url + path, headers={**auth(login, password), **PROPFIND}).status


def users(server: Server, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("-c", str(server.settings.path), "users", *args, input=input)


def test_changes_apply_to_the_running_server(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        assert status(server, "chris", PASSWORD) == 207
        assert status(server, "chris", PASSWORD) == 207  # now in Radicale's login cache
        changed = users(server, "passwd", "chris", input="brand-new-pw\n")
        assert changed.returncode == 0, changed.stderr
        assert "brand-new-pw" not in changed.stdout + changed.stderr
        assert status(server, "chris", PASSWORD) == 401, "the old password still works"
        assert status(server, "chris", "brand-new-pw") == 207
        # The store's own answers (a sync REPORT) ask the same check.
        report = http(
            "REPORT",
            server.url + "/chris/ipoint/",
            body='<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level>'
            "<prop><getetag/></prop></sync-collection>",
            headers={**auth("chris", PASSWORD), "Content-Type": "application/xml"},
        )
        assert report.status == 401

        added = users(server, "add", "pat", input="pat-pw\n")
        assert added.returncode == 0, added.stderr
        assert status(server, "pat", "pat-pw") == 207

        removed = users(server, "remove", "pat")
        assert removed.returncode == 0, removed.stderr
        assert status(server, "pat", "pat-pw") == 401
        assert users(server, "remove", "pat").returncode == 2


def test_list_shows_technicians_supervisors_and_who_can_sign_in(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        set_password(server.settings.data_path("users.htpasswd"), "chris", PASSWORD, rounds=4)
        from bridge.caldav.htpasswd import remove_login

        remove_login(server.settings.data_path("users.htpasswd"), "dana")
        listed = users(server, "list")
        assert listed.returncode == 0, listed.stderr
        rows = {line.split()[0]: line.split(None, 2)[1:] for line in listed.stdout.splitlines()}
        assert rows["chris"] == ["yes", "technician (Chris Miller)"]
        assert rows["dana"][0] == "no" and rows["dana"][1].startswith("technician")
        assert rows["boss"] == ["yes", "reads chris"]
        assert rows["eve"] == ["yes", "personal calendars only"]
        assert rows["ipoint-mirror"][0] == "yes"


def test_bad_logins_and_passwords_change_nothing(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        before = server.settings.data_path("users.htpasswd").read_bytes()
        for login in (".", "..", ".hidden", "a/b", "../etc", "x" * 65, "sp ace", ""):
            result = users(server, "add", login, input="pw\n")
            assert result.returncode == 2, (login, result.stdout)
            assert "login" in result.stderr
        assert users(server, "add", "newbie", input="\n").returncode == 2  # empty
        assert users(server, "add", "newbie", input="x" * 73 + "\n").returncode == 2
        assert users(server, "add", "chris", input="pw\n").returncode == 2  # exists: passwd
        assert users(server, "passwd", "nobody", input="pw\n").returncode == 2
        assert server.settings.data_path("users.htpasswd").read_bytes() == before


def test_generated_password_is_shown_once_and_works(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        result = users(server, "passwd", "dana", "--generate")
        assert result.returncode == 0, result.stderr
        password = result.stdout.split("(shown once): ", 1)[1].split()[0]
        assert len(password) >= 16
        assert status(server, "dana", password) == 207
        assert status(server, "dana", PASSWORD) == 401


def test_password_is_asked_twice_on_a_terminal(tmp_path: Path) -> None:
    with serving(tmp_path) as server:

        def typed(*answers: str) -> tuple[int, str]:
            env = {**os.environ, "PYTHONPATH": str(ROOT), "TZ": "UTC"}
            argv = [*CLI, "-c", str(server.settings.path), "users", "passwd", "chris"]
            return run_in_pty(argv, env, answers)

        code, text = typed("first-try", "second-try")
        assert code == 2 and "differ" in text, text
        assert status(server, "chris", PASSWORD) == 207
        code, text = typed("typed-twice", "typed-twice")
        assert code == 0, text
        assert "typed-twice" not in text  # getpass does not echo
        assert status(server, "chris", "typed-twice") == 207


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand a file to another user")
def test_root_editing_keeps_the_service_owner(tmp_path: Path) -> None:
    path = tmp_path / "data" / "users.htpasswd"
    set_password(path, "chris", PASSWORD, rounds=4)
    os.chown(path, 65534, 65534)  # the service user's file, as systemd's StateDirectory makes it
    set_password(path, "dana", PASSWORD, rounds=4)  # `sudo ipoint-bridge users add dana`
    st = path.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (65534, 65534, 0o600)
