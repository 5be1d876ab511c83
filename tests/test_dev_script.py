"""``scripts/dev.py``: which other CPythons CI tests on, and the floor it calls supported (pyproject's)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from packaging.specifiers import SpecifierSet

from envlock.tomlshim import tomllib

ROOT = Path(__file__).resolve().parent.parent


def _dev() -> ModuleType:
    """scripts/dev.py as a module (registered first: its dataclass looks its module up)."""
    if "dev_script" not in sys.modules:
        spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
        assert spec is not None and spec.loader is not None
        sys.modules["dev_script"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["dev_script"])
    return sys.modules["dev_script"]


def test_the_supported_floor_is_pyprojects() -> None:
    dev = _dev()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    floor = "{}.{}".format(*dev.SUPPORTED)
    below = f"{dev.SUPPORTED[0]}.{dev.SUPPORTED[1] - 1}"
    assert SpecifierSet(requires).contains(floor) and not SpecifierSet(requires).contains(below)


def test_the_oldest_and_newest_other_supported_python() -> None:
    dev = _dev()
    found = {v: Path(f"/py/{v}") for v in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")}
    assert dev.others_to_test(found, "3.11") == [Path("/py/3.10"), Path("/py/3.13")]
    assert dev.others_to_test(found, "3.13") == [Path("/py/3.10"), Path("/py/3.12")]
    assert dev.others_to_test({"3.9": Path("/py/3.9"), "3.12": Path("/py/3.12")}, "3.11") == [
        Path("/py/3.12")
    ]
    assert dev.others_to_test({"3.8": Path("/py/3.8"), "3.11": Path("/py/3.11")}, "3.11") == []


def test_python_m_venv_venvs_are_ignored_by_git() -> None:
    """The per-Python dev venvs (.venv-X.Y, .venv-bootstrap-X.Y) never show up as changes."""
    assert ".venv-*/" in (ROOT / ".gitignore").read_text().splitlines()
