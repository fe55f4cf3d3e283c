"""Where the CLI finds its configuration: -c, then $IPOINT_BRIDGE_CONFIG, then
/etc/ipoint-bridge/bridge.ini; an error naming every place when there is none."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bridge.config_file import DEFAULT_PATH, ENV_VAR
from tests.support import CLI, ROOT, write_config


def run(*args: str, env_config: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env.update({"TZ": "Asia/Kathmandu", "PYTHONPATH": str(ROOT)})
    if env_config is not None:
        env[ENV_VAR] = env_config
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_dash_c_wins_over_the_environment(tmp_path: Path) -> None:
    good = write_config(tmp_path)
    result = run("-c", str(good), "check", env_config=str(tmp_path / "absent.ini"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(good.resolve()) in result.stdout


def test_environment_names_the_file(tmp_path: Path) -> None:
    good = write_config(tmp_path)
    result = run("check", env_config=str(good), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(good.resolve()) in result.stdout
    missing = tmp_path / "absent.ini"
    result = run("check", env_config=str(missing), cwd=tmp_path)
    assert result.returncode == 2 and str(missing) in result.stderr


@pytest.mark.skipif(DEFAULT_PATH.exists(), reason=f"{DEFAULT_PATH} exists on this machine")
def test_no_configuration_names_both_places(tmp_path: Path) -> None:
    result = run("check", env_config=None, cwd=tmp_path)
    assert result.returncode == 2
    assert ENV_VAR in result.stderr and str(DEFAULT_PATH) in result.stderr
    assert "config example" in result.stderr
