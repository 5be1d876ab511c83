"""One package overwriting another (issue 26.7): a wheel that ships a path another locked package owns is
refused before the venv is touched, naming both, whether the two are installed together or the owner is
already there and kept; the same bytes from both (a namespace package's ``__init__.py``) pass
(docs/sync.md, "One path, one owner")."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.kit.hostile import lock_wheels, raw_wheel, refused_cleanly
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import snapshot

VENV = Path(".venv")


def test_a_new_package_overwriting_a_kept_ones_file_is_refused_naming_both(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    owner = raw_wheel(tmp_path / "w", "owner", "1.0", {"owner/__init__.py": b"REAL = 1\n"})
    lock_wheels(kit_index, ("owner", owner), path="first.toml")
    assert run_envlock("sync", "first.toml", "--venv", VENV).returncode == 0
    before = snapshot(VENV, ignore=(".envlock/lock",))
    thief = raw_wheel(tmp_path / "w", "thief", "1.0", {"owner/__init__.py": b"STOLEN = 1\n"})
    lock_wheels(kit_index, ("owner", owner), ("thief", thief))
    result = run_envlock("sync", "--venv", VENV)
    refused_cleanly(result, "owner 1.0", "thief-1.0-py3-none-any.whl", "owner/__init__.py", code=1)
    assert snapshot(VENV, ignore=(".envlock/lock",)) == before


@pytest.mark.parametrize("where", ["venv", "into"])
def test_two_new_packages_writing_one_path_differently_are_refused_naming_both(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path, where: str
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"shared/x.py": b"ONE = 1\n"})
    two = raw_wheel(tmp_path / "w", "two", "1.0", {"shared/x.py": b"TWO = 2\n"})
    lock_wheels(kit_index, ("one", one), ("two", two))
    into = ("--target", f"cp3{sys.version_info[1]}-linux-x86_64", "--into", "out")
    result = run_envlock("sync", *(("--venv", VENV) if where == "venv" else into))
    needles = ("one-1.0-py3-none-any.whl", "two-1.0-py3-none-any.whl", "shared/x.py")
    refused_cleanly(result, *needles, code=1 if where == "venv" else 2)
    assert sorted(p.name for p in Path().iterdir()) == ["pylock.toml"]  # no venv, no DIR, nothing beside


def test_a_console_script_another_package_owns_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    owner = raw_wheel(
        tmp_path / "w",
        "owner",
        "1.0",
        {"owner/__init__.py": b""},
        entry_points="[console_scripts]\ntool = owner:main\n",
    )
    lock_wheels(kit_index, ("owner", owner), path="first.toml")
    assert run_envlock("sync", "first.toml", "--venv", VENV).returncode == 0
    thief = raw_wheel(
        tmp_path / "w",
        "thief",
        "1.0",
        {"thief/__init__.py": b""},
        entry_points="[console_scripts]\ntool = thief:main\n",
    )
    lock_wheels(kit_index, ("owner", owner), ("thief", thief))
    refused_cleanly(
        run_envlock("sync", "--venv", VENV), "owner 1.0", "thief-1.0-py3-none-any.whl", "tool", code=1
    )


def test_the_same_bytes_from_two_packages_pass_now_and_later(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"ns/__init__.py": b"", "ns/one.py": b""})
    two = raw_wheel(tmp_path / "w", "two", "1.0", {"ns/__init__.py": b"", "ns/two.py": b""})
    three = raw_wheel(tmp_path / "w", "three", "1.0", {"ns/__init__.py": b"", "ns/three.py": b""})
    lock_wheels(kit_index, ("one", one), ("two", two))
    assert run_envlock("sync", "--venv", VENV).returncode == 0
    lock_wheels(kit_index, ("one", one), ("two", two), ("three", three))
    result = run_envlock("sync", "--venv", VENV)
    assert result.returncode == 0, result.stderr
    (site,) = VENV.glob("lib/python3.*/site-packages")
    assert sorted(p.name for p in (site / "ns").iterdir()) == ["__init__.py", "one.py", "three.py", "two.py"]
    assert run_envlock("check", "--venv", VENV).returncode == 0
