"""executor: transactional install/uninstall into a real venv, rollback byte for byte, where files land."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from envlock.sync.executor import BYTECODE_BATCH, ExecuteOptions
from envlock.sync.materialize import InstallError
from tests.kit.dists import DistSpec
from tests.kit.sync_locks import snapshot
from tests.kit.venvs import venv_python
from tests.sync.conftest import Target, versions


def test_install_upgrade_remove(target: Target) -> None:
    target.sync(DistSpec("a", "1.0"), DistSpec("b", "1.0"))
    assert versions(target) == {"a": "1.0", "b": "1.0"}
    (dist,) = [d for d in target.installed() if d.name == "a"]
    assert dist.installer == "envlock" and dist.artifact_sha256 is not None
    target.sync(DistSpec("a", "2.0", files={"a/__init__.py": b"v = 2\n", "a/new.py": b""}))
    assert versions(target) == {"a": "2.0"}
    assert (target.site / "a" / "new.py").exists()
    assert not (target.site / "b").exists()  # emptied folders are pruned
    assert not any((target.venv / ".envlock").glob("*/**"))  # no stash, tmp or journal left


def test_console_script_uses_the_venv_interpreter(target: Target) -> None:
    target.sync(DistSpec("tool", "1.0", console_scripts={"tool": "tool:main"}))
    script = Path(target.layout.scheme["scripts"]) / "tool"
    assert script.read_text().startswith(f"#!{venv_python(target.venv)}")
    assert subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout == "tool 1.0\n"


def test_failure_rolls_back_byte_for_byte(target: Target, tmp_path: Path) -> None:
    target.sync(DistSpec("a", "1.0"), DistSpec("gone", "1.0"))
    before = snapshot(target.venv)
    bad = tmp_path / "broken-1.0-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("broken/__init__.py", b"")  # no dist-info: installer refuses it
    with pytest.raises(InstallError, match=r"cannot install broken 1\.0"):
        target.sync(DistSpec("a", "2.0"), DistSpec("broken", "1.0"), DistSpec("z", "1.0"), broken=bad)
    assert snapshot(target.venv) == before


def test_unowned_file_in_the_way_is_stashed_then_restored_on_rollback(target: Target, tmp_path: Path) -> None:
    stray = target.site / "a" / "__init__.py"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"stray\n")
    before = snapshot(target.venv, ignore=(".envlock",))

    def fail_after_first_wheel(point: str) -> None:
        if point == "dist-info-in":
            raise RuntimeError("injected")

    with pytest.raises(RuntimeError, match="injected"):
        target.sync(DistSpec("a", "1.0"), options=ExecuteOptions(checkpoint=fail_after_first_wheel))
    assert snapshot(target.venv, ignore=(".envlock",)) == before
    assert not any((target.venv / ".envlock").iterdir())
    target.sync(DistSpec("a", "1.0"))
    assert stray.read_bytes() != b"stray\n"


def test_invalid_wheel_fails_before_the_venv_is_touched(target: Target, tmp_path: Path) -> None:
    target.sync(DistSpec("a", "1.0"))
    before = snapshot(target.venv)
    bad = tmp_path / "broken-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InstallError, match=r"cannot install broken 1\.0"):
        target.sync(DistSpec("a", "2.0"), DistSpec("broken", "1.0"), broken=bad)
    assert snapshot(target.venv) == before


def test_uninstall_takes_bytecode_and_stays_inside_the_venv(target: Target, tmp_path: Path) -> None:
    target.sync(DistSpec("a", "1.0"), options=ExecuteOptions(compile_bytecode=True))
    caches = list((target.site / "a" / "__pycache__").glob("*.pyc"))
    assert caches, "compile_bytecode wrote no .pyc"
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (dist,) = target.installed()
    record = dist.dist_info / "RECORD"
    relative = Path(*([".."] * len(target.site.relative_to(tmp_path).parts)), "outside.txt")
    record.write_text(record.read_text() + f"{relative.as_posix()},,\n")
    target.sync()
    assert versions(target) == {}
    assert not (target.site / "a").exists()
    assert outside.read_text() == "keep me"


def test_headers_and_data_land_where_pip_puts_them_in_a_venv(target: Target) -> None:
    spec = DistSpec("with_h", "1.0", data={"headers": {"w.h": b"h"}, "data": {"share/w.txt": b"d"}})
    target.sync(spec)
    py = f"python{target.info.python_version}"
    assert (target.venv / "include" / "site" / py / "with-h" / "w.h").read_bytes() == b"h"
    assert (target.venv / "share" / "w.txt").read_bytes() == b"d"


def test_bytecode_of_many_files_is_compiled_in_batches(target: Target) -> None:
    """Enough files for one compiling process per core (compile_bytecode splits the list itself)."""
    count = 2 * BYTECODE_BATCH + 1
    files = {f"many/m{index:04d}.py": f"X = {index}\n".encode() for index in range(count)}
    target.sync(DistSpec("many", "1.0", files=files), options=ExecuteOptions(compile_bytecode=True))
    compiled = {p.name.split(".")[0] for p in (target.site / "many" / "__pycache__").glob("*.pyc")}
    assert compiled == {f"m{index:04d}" for index in range(count)}


def test_a_file_two_wheels_ship_is_written_once_by_the_last_in_name_order(target: Target) -> None:
    shared = {"shared/data.txt": b"from a\n"}
    a = DistSpec("a", "1.0", files={"a/__init__.py": b"", **shared})
    many = {f"b/m{n}.py": b"" for n in range(40)}  # the bigger wheel starts first: order is not size
    b = DistSpec("b", "1.0", files={"b/__init__.py": b"", "shared/data.txt": b"from b\n", **many})
    target.sync(a, b)
    assert (target.site / "shared" / "data.txt").read_bytes() == b"from b\n"
    records = {d.name: (d.dist_info / "RECORD").read_text() for d in target.installed()}
    assert all("shared/data.txt," in text for text in records.values())  # both own it, as pip leaves it


def test_rollback_of_wheels_sharing_a_file_leaves_the_venv_as_it_was(target: Target) -> None:
    target.sync(DistSpec("keep", "1.0"))
    before = snapshot(target.venv)

    def fail_when_installed(point: str) -> None:
        if point == "installed":
            raise RuntimeError("injected")

    a = DistSpec("a", "1.0", files={"a/__init__.py": b"", "shared/deep/x.py": b"a\n"})
    b = DistSpec("b", "1.0", files={"b/__init__.py": b"", "shared/deep/x.py": b"b\n"})
    with pytest.raises(RuntimeError, match="injected"):
        target.sync(DistSpec("keep", "1.0"), a, b, options=ExecuteOptions(checkpoint=fail_when_installed))
    assert snapshot(target.venv) == before  # no file, and no folder made for one, is left


def test_folders_made_before_a_failure_are_removed_on_rollback(target: Target) -> None:
    before = snapshot(target.venv, ignore=(".envlock",))

    def fail_at_the_first_file(point: str) -> None:
        if point == "file-written":
            raise RuntimeError("injected")

    deep = DistSpec("deep", "1.0", files={f"deep/{n}/sub/m.py": b"" for n in "abcdefgh"})
    with pytest.raises(RuntimeError, match="injected"):
        target.sync(deep, options=ExecuteOptions(checkpoint=fail_at_the_first_file, max_workers=1))
    assert snapshot(target.venv, ignore=(".envlock",)) == before


def test_a_file_where_a_folder_is_needed_is_refused_and_rolled_back(target: Target) -> None:
    (target.site / "blocked").write_bytes(b"not a folder\n")
    before = snapshot(target.venv, ignore=(".envlock",))
    spec = DistSpec("blocked", "1.0", files={"blocked/__init__.py": b""})
    with pytest.raises(InstallError, match=r"blocked-1\.0.*a file of that name is in the way"):
        target.sync(DistSpec("other", "1.0"), spec)
    assert snapshot(target.venv, ignore=(".envlock",)) == before


def test_the_journal_refuses_a_path_with_a_line_break(target: Target) -> None:
    from envlock.errors import TargetEnvironmentError
    from envlock.sync.transaction import Transaction

    transaction = Transaction(target.layout)
    with pytest.raises(TargetEnvironmentError, match="line break"):
        transaction.journal_lines([f"stash {target.site}/a\nfile {target.site}/b"])
    transaction.rollback()
