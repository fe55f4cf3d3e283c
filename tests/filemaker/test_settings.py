"""[filemaker:NAME] sections: the contract's option names, the field map, and what check refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge import config
from bridge.errors import ConfigError
from bridge.filemaker.settings import read_password
from tests.support import run_cli, write_config

BASE = "[bridge]\ntimezone = America/Chicago\n"
SECTION = """
[filemaker:workorders]
url = https://fms.example.com
database = iPoint
username = bridge-reader
password = secret
layout = Bridge Work Orders
kind = work_order
id_field = Work Order ID
id_prefix = WO-
modified_field = Modified
field.user = Technician Login
field.title = Work Order Name
field.start_date = Start Date
field.start_time = Start Time
field.end_date = End Date
field.end_time = End Time
attendees_portal = Event Attendees
attendees_field = Event Attendees::Login
poll_seconds = 5
reconcile_minutes = 15
"""


def _parse(section: str = SECTION) -> config.Settings:
    return config.parse(BASE + section, "bridge.ini")


def _error(section: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _parse(section)
    return info.value


def test_the_issue_example_reads_into_frozen_settings() -> None:
    source = _parse().filemaker["workorders"]
    assert source.url == "https://fms.example.com"
    assert (source.database, source.layout, source.kind) == (
        "iPoint",
        "Bridge Work Orders",
        "work_order",
    )
    assert (source.id_field, source.id_prefix, source.modified_field) == (
        "Work Order ID",
        "WO-",
        "Modified",
    )
    assert (
        source.fields["start_date"] == "Start Date" and source.fields["user"] == "Technician Login"
    )
    assert source.attendees_field == "Event Attendees::Login"
    assert (source.poll_seconds, source.reconcile_minutes) == (5.0, 15.0)
    assert (source.overlap_seconds, source.page_size, source.max_delete_share) == (10, 1000, 0.25)
    assert source.filemaker_fields()[:2] == ("Work Order ID", "Modified")
    with pytest.raises(AttributeError):
        source.layout = "x"  # type: ignore[misc]


def test_timestamps_instead_of_split_dates() -> None:
    text = SECTION.replace("field.start_date = Start Date\nfield.start_time = Start Time\n", "")
    text = text.replace("field.end_date = End Date\nfield.end_time = End Time\n", "")
    source = _parse(text + "field.start = Start\nfield.end = End\n").filemaker["workorders"]
    assert (source.fields["start"], source.fields["end"]) == ("Start", "End")


@pytest.mark.parametrize(
    ("change", "option", "reason"),
    [
        (("url = https://fms.example.com", "url = http://fms.example.com"), "url", "https"),
        (("kind = work_order", "kind = job"), "kind", "work_order"),
        (("poll_seconds = 5", "poll_seconds = 0"), "poll_seconds", "from 1"),
        (("id_field = Work Order ID\n", ""), "id_field", "required"),
        (("modified_field = Modified\n", ""), "modified_field", "required"),
        (("field.user = Technician Login\n", ""), "field.user", "field.user"),
        (("field.title = Work Order Name\n", ""), "field.title", "field.title"),
        (("field.start_date = Start Date\n", ""), "field.start_time", "needs field.start_date"),
        (("field.user =", "field.owner ="), "field.owner", "unknown ingest field"),
        (("poll_seconds = 5", "poll_second = 5"), "poll_second", "unknown option"),
        (("attendees_portal = Event Attendees\n", ""), "attendees_field", "go together"),
        (("= Event Attendees::Login", "= Login"), "attendees_field", "Table::Field"),
        (("password = secret\n", ""), "password", "password_file"),
        (("password = secret", "password = s\npassword_file = fm.txt"), "password", "either"),
        (
            ("field.end_time = End Time", "field.end_time = End Time\nfield.end = End"),
            "field.end",
            "not both",
        ),
    ],
)
def test_check_refuses(change: tuple[str, str], option: str, reason: str) -> None:
    old, new = change
    assert old in SECTION
    error = _error(SECTION.replace(old, new))
    assert error.section == "filemaker:workorders"
    assert error.option == option
    assert reason in str(error)


def test_http_is_fine_for_loopback_only() -> None:
    for host in ("127.0.0.1:8123", "localhost:8123", "[::1]:8123"):
        text = SECTION.replace("https://fms.example.com", f"http://{host}")
        assert _parse(text).filemaker["workorders"].url == f"http://{host}"
    assert "address only" in str(_error(SECTION.replace(".com", ".com/fmi/data")))


def test_password_file_must_be_0600(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path, SECTION.replace("password = secret", "password_file = fm-password.txt")
    )
    settings = config.load(cfg)
    secret = tmp_path / "data" / "fm-password.txt"
    secret.parent.mkdir()
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_password(settings.filemaker["workorders"], settings, "workorders")
    os.chmod(secret, 0o600)
    assert read_password(settings.filemaker["workorders"], settings, "workorders") == "s3cret"


def test_cli_check_names_the_section_and_option(tmp_path: Path) -> None:
    good = write_config(tmp_path, SECTION)
    assert run_cli("-c", str(good), "check").returncode == 0
    bad = write_config(tmp_path, SECTION.replace("field.title", "field.titel"))
    result = run_cli("-c", str(bad), "check")
    assert result.returncode == 2
    assert "[filemaker:workorders]" in result.stderr and "'field.titel'" in result.stderr
