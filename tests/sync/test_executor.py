"""executor: transactional install/uninstall into a real venv, rollback, recovery, the venv lock."""

from __future__ import annotations

import hashlib
import threading
import zipfile
from pathlib import Path

import pytest

from envlock.env.site_packages import scan
from envlock.errors import LockBusyError
from envlock.sync.executor import (
    ExecuteOptions,
    InstallError,
    InstallLayout,
    apply,
    needs_recovery,
    recover,
    venv_lock,
)
from envlock.sync.models import Artifact, InstalledDist, SelectedPackage, Selection
from envlock.sync.planner import plan
from tests.kit.dists import DistSpec, build_wheel
from tests.kit.plugin import VenvFactory
from tests.kit.sync_locks import probe_venv, snapshot
from tests.kit.venvs import venv_python


def selected(spec: DistSpec, wheel: Path) -> SelectedPackage:
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return SelectedPackage(spec.name, spec.version, Artifact(wheel.name, sha, path=wheel))


class Target:
    """A real venv with its layout; ``sync(*specs)`` applies the plan for exactly those specs."""

    def __init__(self, venv: Path, wheels: Path) -> None:
        self.venv = venv
        self.wheels = wheels
        self.info = probe_venv(venv_python(venv))
        self.layout = InstallLayout.for_interpreter(self.info, root=venv)

    def installed(self) -> tuple[InstalledDist, ...]:
        return scan(self.layout.site_dirs)

    def sync(
        self, *specs: DistSpec, broken: Path | None = None, options: ExecuteOptions | None = None
    ) -> None:
        packages = []
        artifacts = {}
        for spec in specs:
            wheel = build_wheel(spec, self.wheels)
            package = selected(spec, wheel)
            if broken is not None and spec.name == "broken":
                wheel = broken
            packages.append(package)
            artifacts[package.artifact.sha256] = wheel
        the_plan = plan(Selection(tuple(sorted(packages, key=lambda p: p.name))), self.installed())
        apply(the_plan, artifacts, self.layout, options or ExecuteOptions())

    @property
    def site(self) -> Path:
        return Path(self.layout.scheme["purelib"])


@pytest.fixture
def target(venv_factory: VenvFactory, tmp_path: Path) -> Target:
    return Target(venv_factory(), tmp_path / "wheels")


def versions(target: Target) -> dict[str, str]:
    return {d.name: d.version for d in target.installed()}


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
    import subprocess

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


def test_recover_removes_orphans_of_a_killed_install(target: Target) -> None:
    state = target.venv / ".envlock"
    orphan = target.site / "half" / "mod.py"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("x")
    (state / "stash" / "t1").mkdir(parents=True)
    (state / "stash" / "t1" / "000001").write_text("old")
    (state / "journal").write_text(f"dist {target.site / 'half-1.0.dist-info'}\nfile {orphan}\n")
    assert needs_recovery(target.venv)
    notes = recover(target.venv)
    assert notes and "1 orphan files" in notes[0]
    assert not orphan.exists() and not orphan.parent.exists()
    assert not needs_recovery(target.venv)


def test_recover_keeps_files_of_a_completed_install(target: Target) -> None:
    target.sync(DistSpec("done", "1.0"))
    module = target.site / "done" / "__init__.py"
    (target.venv / ".envlock" / "journal").write_text(
        f"dist {target.site / 'done-1.0.dist-info'}\nfile {module}\n"
    )
    recover(target.venv)
    assert module.exists()


def test_venv_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with venv_lock(tmp_path):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        errors: list[BaseException] = []

        def try_lock() -> None:
            try:
                with venv_lock(tmp_path, timeout=0.1):
                    pass
            except BaseException as error:
                errors.append(error)

        other = threading.Thread(target=try_lock)
        other.start()
        other.join()
        assert errors and isinstance(errors[0], LockBusyError)
    finally:
        release.set()
        thread.join()
