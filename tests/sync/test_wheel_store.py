"""wheel_store: the unpacked-wheel store (once per wheel, atomic, read-only, re-unpacked when edited)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from envlock.sync.wheel_store import STALE_AFTER, load, prepare, ready, sweep
from tests.kit.dists import DistSpec, build_wheel

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


@pytest.mark.parametrize("change", ["twice", "reordered"])
def test_a_manifest_listing_a_file_twice_or_out_of_order_is_not_used(change: str, tmp_path: Path) -> None:
    """The store is shared: a manifest this code did not write (a file listed twice, or not in the sorted
    order the dist-info's lookup relies on) is no entry; the wheel is unpacked again."""
    wheel = build_wheel(SPEC, tmp_path / "w")
    store = tmp_path / "store"
    entry = prepare(wheel, sha256(wheel), store)
    manifest = entry.root / "manifest.json"
    data = json.loads(manifest.read_bytes())
    data["files"] = data["files"] + data["files"][:1] if change == "twice" else data["files"][::-1]
    manifest.chmod(0o644)
    manifest.write_text(json.dumps(data))
    assert load(entry.root) is None and ready(store, sha256(wheel)) is None
    assert prepare(wheel, sha256(wheel), store).is_intact() and load(entry.root) is not None


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


def test_sweep_deletes_what_killed_processes_left(tmp_path: Path) -> None:
    wheel = build_wheel(SPEC, tmp_path / "w")
    store = tmp_path / "store"
    entry = prepare(wheel, sha256(wheel), store)
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    dead = int(ended.stdout)  # a process that has exited: its id is free (or reused: then the age rule)
    made = {
        f".tmp-{dead}-a1": 0,  # unpacking when its process was killed
        f".old-{dead}-b2": 0,  # being deleted when its process was killed
        f".tmp-{os.getpid()}-c3": 0,  # a live process (this one) unpacks: kept
        ".tmp-d4": STALE_AFTER + 60,  # no process id (made before ids were recorded), old: swept
        ".tmp-e5": 0,  # no process id, recent: kept
        f".tmp-{os.getpid()}-f6": STALE_AFTER + 60,  # a live id, but older than any sync: swept
    }
    now = time.time()
    for name, age in made.items():
        (store / name / "files").mkdir(parents=True)
        (store / name / "files" / "x.py").write_bytes(b"")
        (store / name / "files" / "x.py").chmod(0o444)  # read-only, as unpacked files are
        os.utime(store / name, (now - age, now - age))
    assert sweep(store, now=now) == sorted(
        [f".old-{dead}-b2", f".tmp-{dead}-a1", ".tmp-d4", f".tmp-{os.getpid()}-f6"]
    )
    assert sorted(p.name for p in store.iterdir()) == sorted(
        [entry.root.name, f".tmp-{os.getpid()}-c3", ".tmp-e5"]
    )
    assert load(entry.root) == entry
    assert sweep(tmp_path / "no-store") == []


def test_temporary_folders_carry_the_process_id(tmp_path: Path) -> None:
    wheel = build_wheel(SPEC, tmp_path / "w")
    store = tmp_path / "store"
    seen: list[str] = []
    prepare(wheel, sha256(wheel), store, checkpoint=lambda _: seen.extend(p.name for p in store.iterdir()))
    assert len(seen) == 1 and seen[0].startswith(f".tmp-{os.getpid()}-")
