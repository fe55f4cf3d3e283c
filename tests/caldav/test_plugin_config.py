"""The plugin's Radicale options: declared in a plugin schema (a typo fails at start), and the
plugin also runs under stock ``python -m radicale`` with a generated Radicale INI."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from radicale import config as radicale_config

from bridge.caldav import prepare_files, radicale_ini, set_password
from bridge.config import load
from bridge.runtime import open_store
from radicale_plugin import Storage
from tests.caldav.conftest import CONFIG, PASSWORD, auth, record
from tests.support import ROOT, http, write_config


def configuration(folder: Path, storage: dict[str, str]) -> radicale_config.Configuration:
    conf = radicale_config.load()
    conf.update(
        {"storage": {"type": "radicale_plugin", "filesystem_folder": str(folder), **storage}},
        "test",
    )
    return conf


def test_misspelt_option_fails_at_start(tmp_path: Path) -> None:
    ini = write_config(tmp_path)
    with pytest.raises(RuntimeError, match="bridge_confg"):
        Storage(configuration(tmp_path / "c", {"bridge_confg": str(ini)}))


def test_missing_bridge_config_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="bridge_config"):
        Storage(configuration(tmp_path / "c", {}))
    with pytest.raises(RuntimeError, match="cannot read"):
        Storage(configuration(tmp_path / "c", {"bridge_config": str(tmp_path / "none.ini")}))


def test_stock_radicale_runs_the_plugin(tmp_path: Path) -> None:
    ini = write_config(tmp_path, CONFIG)
    settings = load(ini)
    prepare_files(settings)
    set_password(settings.data_path(settings.caldav.htpasswd), "chris", PASSWORD, rounds=4)
    store = open_store(settings)
    store.apply([record("standalone-1")])
    store.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = radicale_ini(settings, ini).replace(
        f"hosts = {settings.caldav.host}:{settings.caldav.port}", f"hosts = 127.0.0.1:{port}"
    )
    radicale_conf = tmp_path / "radicale.ini"
    radicale_conf.write_text(text)
    proc = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(radicale_conf)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    try:
        answer = None
        for _ in range(100):
            try:
                answer = http(
                    "GET",
                    f"http://127.0.0.1:{port}/chris/ipoint/",
                    headers=auth("chris"),
                    timeout=5,
                )
                break
            except OSError:
                time.sleep(0.1)
        assert answer is not None and answer.status == 200
        assert b"UID:ipoint-standalone-1" in answer.body
    finally:
        proc.terminate()
        proc.wait(10)
