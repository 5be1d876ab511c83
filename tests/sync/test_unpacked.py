"""unpacked: the unpacked-wheel store (once per wheel, atomic, read-only, re-unpacked when edited) and the
link modes that put its files into a venv; installs from it carry a RECORD that is true for the venv."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest

from envlock.env.site_packages import scan, verify_record
from envlock.errors import InputError
from envlock.sync.executor import ExecuteOptions, InstallLayout, apply
from envlock.sync.models import Artifact, SelectedPackage, Selection
from envlock.sync.planner import plan
from envlock.sync.unpacked import LinkMode, Materializer, link_mode_from_env, load, prepare
from tests.kit.dists import DistSpec, build_wheel
from tests.kit.plugin import VenvFactory
from tests.kit.sync_locks import probe_venv
from tests.kit.venvs import venv_python

SPEC = DistSpec(
    "Fancy_Pkg",
    "1.0",
    files={"fancy_pkg/__init__.py": b"def main():\n    print('fancy')\n", "fancy_pkg/data.txt": b"d\n"},
    console_scripts={"fancy": "fancy_pkg:main"},
    data={"scripts": {"fancy-sh": b"#!python\nprint('hi')\n"}, "headers": {"fancy.h": b"/* h */\n"}},
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_prepare_unpacks_once_read_only_with_record_rows(tmp_path: Path) -> None:
    wheel = build_wheel(SPEC, tmp_path / "w")
    store = tmp_path / "store"
    entry = prepare(wheel, sha256(wheel), store)
    assert entry.root == store / sha256(wheel)
    assert entry.dist_info_dir == "fancy_pkg-1.0.dist-info" and entry.root_scheme == "purelib"
    by_path = {(f.scheme, f.path): f for f in entry.files}
    init = by_path[("purelib", "fancy_pkg/__init__.py")]
    assert init.size == len(SPEC.files["fancy_pkg/__init__.py"]) and init.hash.startswith("sha256=")
    assert by_path[("scripts", "fancy-sh")].shebang and not init.shebang
    assert ("headers", "fancy.h") in by_path
    assert ("purelib", "fancy_pkg-1.0.dist-info/RECORD") not in by_path  # written per venv
    assert [s.name for s in entry.scripts] == ["fancy"]
    assert not stat.S_IMODE(Path(entry.source(init)).stat().st_mode) & 0o222  # read-only
    again = prepare(wheel, sha256(wheel), store)
    assert again == entry  # reused, not unpacked again
    assert [p.name for p in store.iterdir()] == [sha256(wheel)]  # no temp folders left


def test_an_entry_edited_in_place_is_unpacked_again(tmp_path: Path) -> None:
    wheel = build_wheel(SPEC, tmp_path / "w")
    store = tmp_path / "store"
    entry = prepare(wheel, sha256(wheel), store)
    init = next(f for f in entry.files if f.path == "fancy_pkg/__init__.py")
    source = Path(entry.source(init))
    source.chmod(0o644)
    source.write_bytes(b"evil = 1\n")
    assert not entry.is_intact()
    fresh = prepare(wheel, sha256(wheel), store)
    assert fresh.is_intact()
    assert Path(fresh.source(init)).read_bytes() == SPEC.files["fancy_pkg/__init__.py"]
    assert [p.name for p in store.iterdir()] == [sha256(wheel)]


def test_concurrent_prepares_leave_one_whole_entry(tmp_path: Path) -> None:
    wheel = build_wheel(SPEC, tmp_path / "w")
    store = tmp_path / "store"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            assert prepare(wheel, sha256(wheel), store).is_intact()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in store.iterdir()] == [sha256(wheel)]
    assert load(store / sha256(wheel)) is not None


def test_link_mode_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVLOCK_LINK_MODE", raising=False)
    assert link_mode_from_env() is LinkMode.AUTO
    monkeypatch.setenv("ENVLOCK_LINK_MODE", "Hardlink")
    assert link_mode_from_env() is LinkMode.HARDLINK
    assert link_mode_from_env("copy") is LinkMode.COPY
    monkeypatch.setenv("ENVLOCK_LINK_MODE", "symlink")
    with pytest.raises(InputError, match="unknown link mode 'symlink'"):
        link_mode_from_env()


def test_materializer_refuses_to_overwrite_and_copies_executable_bits(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.write_bytes(b"#!/bin/sh\n")
    source.chmod(0o555)
    placer = Materializer(LinkMode.COPY)
    placer.place(str(source), str(tmp_path / "copy"), executable=True)
    assert (tmp_path / "copy").read_bytes() == b"#!/bin/sh\n"
    assert os.access(tmp_path / "copy", os.X_OK) and os.access(tmp_path / "copy", os.W_OK)
    assert (tmp_path / "copy").stat().st_ino != source.stat().st_ino
    with pytest.raises(FileExistsError):
        placer.place(str(source), str(tmp_path / "copy"), executable=False)


@pytest.mark.parametrize("mode", [LinkMode.COPY, LinkMode.CLONE, LinkMode.HARDLINK, LinkMode.AUTO])
def test_install_from_the_store_in_every_mode(
    mode: LinkMode, venv_factory: VenvFactory, tmp_path: Path
) -> None:
    import subprocess

    venv = venv_factory()
    layout = InstallLayout.for_interpreter(probe_venv(venv_python(venv)), root=venv)
    wheel = build_wheel(SPEC, tmp_path / "w")
    package = SelectedPackage("fancy-pkg", "1.0", Artifact(wheel.name, sha256(wheel), path=wheel))
    store = tmp_path / "store"
    the_plan = plan(Selection((package,)), scan(layout.site_dirs))
    apply(the_plan, {package.artifact.sha256: wheel}, layout, ExecuteOptions(store=store, link_mode=mode))
    (dist,) = scan(layout.site_dirs, verify=True)
    assert dist.problems == () and dist.installer == "envlock"
    assert verify_record(dist.dist_info) == []
    record = (dist.dist_info / "RECORD").read_text()
    assert "../../../bin/fancy," in record and "../../../bin/fancy-sh," in record
    assert "fancy_pkg-1.0.dist-info/RECORD,," in record
    site = Path(layout.scheme["purelib"])
    entry = prepare(wheel, sha256(wheel), store)
    init = next(f for f in entry.files if f.path == "fancy_pkg/__init__.py")
    same_inode = (site / "fancy_pkg" / "__init__.py").stat().st_ino == Path(entry.source(init)).stat().st_ino
    assert same_inode is (mode is LinkMode.HARDLINK)
    scripts = Path(layout.scheme["scripts"])
    assert (scripts / "fancy-sh").read_bytes().startswith(f"#!{layout.interpreter}\n".encode())
    assert subprocess.run([str(scripts / "fancy")], capture_output=True, text=True).stdout == "fancy\n"
    assert subprocess.run([str(scripts / "fancy-sh")], capture_output=True, text=True).stdout == "hi\n"
    assert entry.is_intact()
