"""Packaging: the distribution declares exactly the third-party packages that ``bridge/`` and
``radicale_plugin/`` import (nothing missing, nothing unused), and its version is the package's
``__version__``."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import bridge

ROOT = Path(__file__).resolve().parents[2]
OURS = {"bridge", "radicale_plugin"}
SEPARATE = {"google_emulator": "the emulators' own distribution, which only `demo` starts"}
NOT_IMPORTED = {"tzdata": "the zone database zoneinfo reads where the host has none"}


def _name(requirement: str) -> str:
    raw = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", raw).lower()


def _imported_modules() -> set[str]:
    """Full names of the non-standard-library modules our code imports."""
    found: set[str] = set()
    for folder in OURS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.add(name)
    return found


def _distribution_of(module: str, owners: dict[Path, str]) -> str:
    """The installed distribution whose files hold ``module`` (namespace packages such as
    ``google`` are shared by several distributions, so the module's own file decides)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{module} is imported but not installed"
    origin = Path(spec.origin or next(iter(spec.submodule_search_locations or [])))
    assert origin in owners, f"no installed distribution holds {module} ({origin})"
    return owners[origin]


def _owners() -> dict[Path, str]:
    """Every installed Python file, mapped to its distribution's name."""
    out: dict[Path, str] = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            if file.suffix in (".py", ".so"):
                out[Path(str(dist.locate_file(file)))] = _name(dist.metadata["Name"])
    return out


def test_dependencies_are_declared_exactly_as_imported() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for r in project["optional-dependencies"]["postgres"]}
    modules = {m for m in _imported_modules() if m.split(".")[0] not in SEPARATE}
    owners = _owners()
    needed = {_distribution_of(m, owners) for m in modules}
    assert needed - declared == set(), "imported but not declared"
    assert declared - needed - set(NOT_IMPORTED) == set(), "declared but never imported"


def test_the_version_is_written_once() -> None:
    assert importlib.metadata.version("ipoint-bridge") == bridge.__version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
