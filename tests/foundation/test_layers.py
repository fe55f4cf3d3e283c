"""Layers point one way: the import-linter contracts in pyproject.toml (``[tool.importlinter]``)
hold for the code as it is. A module that imports upward (``bridge.mirror`` importing
``bridge.web``, the bridge importing an emulator, the Radicale plugin importing the mirror) fails
this test with the offending import chain in its output."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_contracts_cover_every_package_of_the_bridge() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    packages = {
        f"bridge.{p.stem}"
        for p in (ROOT / "bridge").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert packages <= named, f"not in any layer: {sorted(packages - named)}"


def test_no_import_breaks_a_contract() -> None:
    done = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
