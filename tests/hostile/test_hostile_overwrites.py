"""One package overwriting another (issue 26.7): a wheel that ships a path another locked package owns is
refused before the venv is touched, naming both, whether the two are installed together or the owner is
already there and kept; the same bytes from both (a namespace package's ``__init__.py``) pass
(docs/sync.md, "One path, one owner")."""

from __future__ import annotations

from pathlib import Path

from tests.kit.hostile import raw_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import file_entry, snapshot, write_lock_dict

VENV = Path(".venv")


def lock_of(index: KitIndex, *wheels: tuple[str, Path], path: str = "pylock.toml") -> str:
    packages = []
    for name, wheel in wheels:
        index.add_file(wheel)
        packages.append({"name": name, "version": "1.0", "wheels": [file_entry(index, wheel)]})
    write_lock_dict(Path(path), {"lock-version": "1.0", "created-by": "t", "packages": packages})
    return path


def refused(result: object, *needles: str) -> None:
    returncode, stderr = result.returncode, result.stderr  # type: ignore[attr-defined]
    assert returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) <= 2, stderr
    for needle in needles:
        assert needle in stderr, stderr


def test_a_new_package_overwriting_a_kept_ones_file_is_refused_naming_both(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    owner = raw_wheel(tmp_path / "w", "owner", "1.0", {"owner/__init__.py": b"REAL = 1\n"})
    lock_of(kit_index, ("owner", owner), path="first.toml")
    assert run_envlock("sync", "first.toml", "--venv", VENV).returncode == 0
    before = snapshot(VENV, ignore=(".envlock/lock",))
    thief = raw_wheel(tmp_path / "w", "thief", "1.0", {"owner/__init__.py": b"STOLEN = 1\n"})
    lock_of(kit_index, ("owner", owner), ("thief", thief))
    result = run_envlock("sync", "--venv", VENV)
    refused(result, "owner 1.0", "thief-1.0-py3-none-any.whl", "owner/__init__.py")
    assert snapshot(VENV, ignore=(".envlock/lock",)) == before


def test_two_new_packages_writing_one_path_differently_are_refused_naming_both(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"shared/x.py": b"ONE = 1\n"})
    two = raw_wheel(tmp_path / "w", "two", "1.0", {"shared/x.py": b"TWO = 2\n"})
    lock_of(kit_index, ("one", one), ("two", two))
    result = run_envlock("sync", "--venv", VENV)
    refused(result, "one-1.0-py3-none-any.whl", "two-1.0-py3-none-any.whl", "shared/x.py")
    assert not VENV.exists()


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
    lock_of(kit_index, ("owner", owner), path="first.toml")
    assert run_envlock("sync", "first.toml", "--venv", VENV).returncode == 0
    thief = raw_wheel(
        tmp_path / "w",
        "thief",
        "1.0",
        {"thief/__init__.py": b""},
        entry_points="[console_scripts]\ntool = thief:main\n",
    )
    lock_of(kit_index, ("owner", owner), ("thief", thief))
    refused(run_envlock("sync", "--venv", VENV), "owner 1.0", "thief-1.0-py3-none-any.whl", "tool")


def test_the_same_bytes_from_two_packages_pass_now_and_later(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"ns/__init__.py": b"", "ns/one.py": b""})
    two = raw_wheel(tmp_path / "w", "two", "1.0", {"ns/__init__.py": b"", "ns/two.py": b""})
    three = raw_wheel(tmp_path / "w", "three", "1.0", {"ns/__init__.py": b"", "ns/three.py": b""})
    lock_of(kit_index, ("one", one), ("two", two))
    assert run_envlock("sync", "--venv", VENV).returncode == 0
    lock_of(kit_index, ("one", one), ("two", two), ("three", three))
    result = run_envlock("sync", "--venv", VENV)
    assert result.returncode == 0, result.stderr
    (site,) = VENV.glob("lib/python3.*/site-packages")
    assert sorted(p.name for p in (site / "ns").iterdir()) == ["__init__.py", "one.py", "three.py", "two.py"]
    assert run_envlock("check", "--venv", VENV).returncode == 0
