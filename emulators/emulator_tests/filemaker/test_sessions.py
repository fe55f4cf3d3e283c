"""Sessions as Claris documents them: Basic log-in with a JSON body, Bearer tokens, 15 idle
minutes, logout, 952, 212, 802, and the envelope of every answer."""

from __future__ import annotations

import base64

import pytest
from filemaker_emulator.ipoint_file import PASSWORD, USERNAME, WORK_ORDER_LAYOUT
from filemaker_emulator.testing import EmulatorThread

from emulator_tests.filemaker.helpers import DataApi, call, q


def _basic(user: str = USERNAME, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("version", ["v1", "v2", "vLatest"])
def test_login_gives_the_token_in_header_and_body(emu: EmulatorThread, version: str) -> None:
    api = DataApi(emu.base_url, version=version)
    answer = api.login()
    assert answer.status == 200
    assert answer.body["messages"] == [{"code": "0", "message": "OK"}]
    assert answer.headers["X-FM-Data-Access-Token"] == answer.response["token"]
    assert api.layout(WORK_ORDER_LAYOUT).code == "0"


def test_login_needs_a_json_body(emu: EmulatorThread) -> None:
    url = DataApi(emu.base_url).url("sessions")
    no_body = call("POST", url, headers={**_basic(), "Content-Type": "application/json"})
    assert (no_body.status, no_body.code) == (400, "1708")
    wrong_type = call("POST", url, body=b"{}", headers={**_basic(), "Content-Type": "text/plain"})
    assert (wrong_type.status, wrong_type.code) == (415, "1708")
    null = call(
        "POST",
        url,
        body=b'{"fmDataSource": null}',
        headers={**_basic(), "Content-Type": "application/json"},
    )
    assert null.code == "1708"
    assert emu.stats()["sessions"] == 0


def test_wrong_password_is_212_with_http_401(emu: EmulatorThread) -> None:
    answer = DataApi(emu.base_url).login(password="nope")
    assert (answer.status, answer.code) == (401, "212")
    assert "token" not in answer.response
    assert "X-FM-Data-Access-Token" not in answer.headers
    missing = call(
        "POST",
        DataApi(emu.base_url).url("sessions"),
        body=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert (missing.status, missing.code) == (401, "212")


def test_unknown_database_is_802(emu: EmulatorThread) -> None:
    answer = DataApi(emu.base_url, database="Nope").login()
    assert (answer.status, answer.code) == (500, "802")


def test_calls_without_a_valid_token_are_952(emu: EmulatorThread) -> None:
    api = DataApi(emu.base_url, token="not-a-token")
    answer = api.records(WORK_ORDER_LAYOUT)
    assert (answer.status, answer.code) == (401, "952")
    no_header = call("GET", api.url("layouts/" + q(WORK_ORDER_LAYOUT)))
    assert no_header.code == "952"


def test_token_dies_after_15_idle_minutes_and_use_keeps_it(emu: EmulatorThread) -> None:
    api = DataApi(emu.base_url)
    api.login()
    emu.advance(14 * 60)
    assert api.layout(WORK_ORDER_LAYOUT).code == "0"  # restarts the idle time
    emu.advance(14 * 60)
    assert api.layout(WORK_ORDER_LAYOUT).code == "0"
    emu.advance(15 * 60 + 1)
    assert api.layout(WORK_ORDER_LAYOUT).code == "952"
    assert api.login().code == "0"
    assert api.layout(WORK_ORDER_LAYOUT).code == "0"


def test_logout_ends_the_session(emu: EmulatorThread) -> None:
    api = DataApi(emu.base_url)
    api.login()
    answer = call("DELETE", api.url(f"sessions/{api.token}"))
    assert (answer.status, answer.code) == (200, "0")
    assert api.layout(WORK_ORDER_LAYOUT).code == "952"
    again = call("DELETE", api.url(f"sessions/{api.token}"))
    assert again.code == "952"


def test_expire_all_tokens(emu: EmulatorThread) -> None:
    first, second = DataApi(emu.base_url), DataApi(emu.base_url)
    first.login()
    second.login()
    assert emu.expire_tokens() == 2
    assert first.layout(WORK_ORDER_LAYOUT).code == "952"
    assert second.records(WORK_ORDER_LAYOUT).code == "952"


def test_token_of_one_file_does_not_open_another(emu: EmulatorThread) -> None:
    api = DataApi(emu.base_url)
    api.login()
    other = DataApi(emu.base_url, database="Other", token=api.token)
    assert other.layout(WORK_ORDER_LAYOUT).code == "952"


def test_unknown_paths_and_verbs(emu: EmulatorThread, fm: DataApi) -> None:
    assert call("GET", f"{emu.base_url}/fmi/data/v9/productInfo").code == "1630"
    assert call("GET", f"{emu.base_url}/fmi/data/vLatest/productInfo").code == "0"
    answer = fm.request("PUT", f"layouts/{q(WORK_ORDER_LAYOUT)}/records", {"fieldData": {}})
    assert answer.code == "1704"
