"""``sync --target SPEC --into DIR`` with hostile folders and wheels (issue 26.6): DIR a symbolic link to
an empty folder, DIR under a file, two wheels shipping one file. Each is one line naming DIR (and the two
wheels), no traceback, nothing written where the link points or beside DIR; two wheels shipping the same
bytes (a namespace package's ``__init__.py``) are laid out."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.kit.dists import DistSpec, build_wheel
from tests.kit.hostile import raw_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import file_entry, write_lock_dict

TARGET = f"cp3{sys.version_info[1]}-linux-x86_64"


def lock_of(index: KitIndex, *wheels: tuple[str, Path]) -> None:
    packages = []
    for name, wheel in wheels:
        index.add_file(wheel)
        packages.append({"name": name, "version": "1.0", "wheels": [file_entry(index, wheel)]})
    write_lock_dict(Path("pylock.toml"), {"lock-version": "1.0", "created-by": "t", "packages": packages})


def refused(result: object, *needles: str) -> None:
    returncode, stderr = result.returncode, result.stderr  # type: ignore[attr-defined]
    assert returncode == 2, stderr
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) <= 2, stderr
    for needle in needles:
        assert needle in stderr, stderr


def test_into_a_symbolic_link_to_an_empty_folder_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    lock_of(kit_index, ("good", build_wheel(DistSpec("good", "1.0"), tmp_path / "w")))
    empty = tmp_path / "empty"
    empty.mkdir()
    Path("out").symlink_to(empty)
    refused(run_envlock("sync", "--target", TARGET, "--into", "out"), "out", "symbolic link")
    assert list(empty.iterdir()) == []
    assert Path("out").is_symlink()
    assert sorted(p.name for p in Path().iterdir()) == ["out", "pylock.toml"]


def test_into_a_folder_under_a_file_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    lock_of(kit_index, ("good", build_wheel(DistSpec("good", "1.0"), tmp_path / "w")))
    Path("afile").write_text("keep\n")
    refused(run_envlock("sync", "--target", TARGET, "--into", "afile/out"), "afile/out", "not a folder")
    assert Path("afile").read_text() == "keep\n"


def test_into_two_wheels_writing_one_file_differently_is_refused_naming_both(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"shared/x.py": b"ONE = 1\n"})
    two = raw_wheel(tmp_path / "w", "two", "1.0", {"shared/x.py": b"TWO = 2\n"})
    lock_of(kit_index, ("one", one), ("two", two))
    result = run_envlock("sync", "--target", TARGET, "--into", "out")
    refused(result, "one-1.0-py3-none-any.whl", "two-1.0-py3-none-any.whl", "shared/x.py")
    assert not Path("out").exists()
    assert [p.name for p in Path().iterdir() if p.name.startswith(".out.")] == []


def test_into_two_wheels_writing_the_same_bytes_is_laid_out(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"ns/__init__.py": b"", "ns/one.py": b""})
    two = raw_wheel(tmp_path / "w", "two", "1.0", {"ns/__init__.py": b"", "ns/two.py": b""})
    lock_of(kit_index, ("one", one), ("two", two))
    result = run_envlock("sync", "--target", TARGET, "--into", "out")
    assert result.returncode == 0, result.stderr
    (site,) = Path("out").glob("lib/python3.*/site-packages")
    assert sorted(p.name for p in (site / "ns").iterdir()) == ["__init__.py", "one.py", "two.py"]
