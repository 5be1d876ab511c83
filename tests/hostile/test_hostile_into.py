"""``sync --target SPEC --into DIR`` with hostile folders (issue 26.6): DIR a symbolic link to an empty
folder, DIR under a file. Each is one line naming DIR, no traceback, nothing written where the link points
or beside DIR. Two wheels shipping one file: ``test_hostile_overwrites``; the same bytes are laid out."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.kit.dists import DistSpec, build_wheel
from tests.kit.hostile import lock_wheels, raw_wheel, refused_cleanly
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

TARGET = f"cp3{sys.version_info[1]}-linux-x86_64"


def test_into_a_symbolic_link_to_an_empty_folder_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    lock_wheels(kit_index, ("good", build_wheel(DistSpec("good", "1.0"), tmp_path / "w")))
    empty = tmp_path / "empty"
    empty.mkdir()
    Path("out").symlink_to(empty)
    refused_cleanly(run_envlock("sync", "--target", TARGET, "--into", "out"), "out", "symbolic link", code=2)
    assert list(empty.iterdir()) == []
    assert Path("out").is_symlink()
    assert sorted(p.name for p in Path().iterdir()) == ["out", "pylock.toml"]


def test_into_a_folder_under_a_file_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    lock_wheels(kit_index, ("good", build_wheel(DistSpec("good", "1.0"), tmp_path / "w")))
    Path("afile").write_text("keep\n")
    refused_cleanly(
        run_envlock("sync", "--target", TARGET, "--into", "afile/out"), "afile/out", "not a folder", code=2
    )
    assert Path("afile").read_text() == "keep\n"


def test_into_two_wheels_writing_the_same_bytes_is_laid_out(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"ns/__init__.py": b"", "ns/one.py": b""})
    two = raw_wheel(tmp_path / "w", "two", "1.0", {"ns/__init__.py": b"", "ns/two.py": b""})
    lock_wheels(kit_index, ("one", one), ("two", two))
    result = run_envlock("sync", "--target", TARGET, "--into", "out")
    assert result.returncode == 0, result.stderr
    (site,) = Path("out").glob("lib/python3.*/site-packages")
    assert sorted(p.name for p in (site / "ns").iterdir()) == ["__init__.py", "one.py", "two.py"]
