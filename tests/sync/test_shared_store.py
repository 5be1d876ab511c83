"""The default link mode shares the unpacked store with the venv (a hardlink where the filesystem has no
reflinks): an edit through the venv's file is caught by ``check --deep`` and ``sync --verify`` and repaired
from the verified wheel, never from the edited store file; a save by rename leaves the store alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.test_sync_cli import VENV, sync_json, write
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.venvs import reflinks_here, site_packages

ORIGINAL = b"core = 1\n"
EDITED = b"core = 2\n"  # same size: only hashing tells it apart


def _store_copy(core: Path) -> Path:
    """The store's file for the venv's ``a/core.py``."""
    store = Path(os.environ["ENVLOCK_CACHE_DIR"])
    (found,) = store.glob("*/unpacked/*/files/purelib/a/core.py")
    return found


def _synced(kit_index: KitIndex, run_envlock: RunEnvlock) -> tuple[Path, Path]:
    write(kit_index, DistSpec("a", "1.0", files={"a/__init__.py": b"", "a/core.py": ORIGINAL}))
    sync_json(run_envlock)  # the default link mode
    core = site_packages(VENV) / "a" / "core.py"
    return core, _store_copy(core)


def _repaired(run_envlock: RunEnvlock, kit_index: KitIndex, core: Path, *, downloads: int) -> None:
    """check --deep names the edit, sync --verify puts the locked bytes back (from the wheel), and the
    venv checks clean again; ``downloads``: requests the repair may make."""
    deep = run_envlock("check", "--deep")
    assert deep.returncode == 1 and "core.py" in deep.stderr, deep.stderr
    requests = len(kit_index.requests)
    data = sync_json(run_envlock, "--verify")
    changed = {p["name"]: p["reason"] for p in data["packages"] if p["action"] != "keep"}
    assert set(changed) == {"a"} and "changed core.py" in changed["a"], changed
    assert core.read_bytes() == ORIGINAL
    assert _store_copy(core).read_bytes() == ORIGINAL
    assert len(kit_index.requests) == requests + downloads
    assert run_envlock("check", "--deep").returncode == 0


def test_default_mode_hardlinks_from_a_read_only_store(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    core, stored = _synced(kit_index, run_envlock)
    assert stored.stat().st_mode & 0o222 == 0  # the store is read-only
    if not reflinks_here(tmp_path):  # ext4 and most others: auto hardlinks from the store
        assert core.stat().st_ino == stored.stat().st_ino and core.stat().st_nlink >= 2
    # --link-mode copy shares nothing
    assert run_envlock("sync", "--rebuild", "--link-mode", "copy").returncode == 0
    assert core.stat().st_ino != stored.stat().st_ino and core.stat().st_nlink == 1


def test_an_edit_in_place_through_the_hardlink_is_detected_and_repaired_from_the_wheel(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    if reflinks_here(tmp_path):
        pytest.skip("this filesystem clones: the venv shares no file with the store")
    core, stored = _synced(kit_index, run_envlock)
    before = core.stat()
    core.chmod(0o644)  # what an editor's "write anyway" does (the chmod reaches the store's inode too)
    with core.open("r+b") as handle:  # write in place: same inode, same size
        handle.write(EDITED)
    os.utime(core, ns=(before.st_atime_ns, before.st_mtime_ns))  # even the mtime kept
    assert stored.read_bytes() == EDITED  # the edit went through to the store's file
    _repaired(run_envlock, kit_index, core, downloads=0)


def test_a_damaged_cached_wheel_is_downloaded_again_for_the_repair(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    core, _stored = _synced(kit_index, run_envlock)
    (wheel,) = Path(os.environ["ENVLOCK_CACHE_DIR"]).glob("*/artifacts/*/*/a-1.0-*.whl")
    wheel.write_bytes(wheel.read_bytes()[:-10] + b"0123456789")
    core.unlink()
    core.write_bytes(EDITED)
    _repaired(run_envlock, kit_index, core, downloads=1)


def test_a_save_by_rename_leaves_the_store_intact(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    core, stored = _synced(kit_index, run_envlock)
    saved = core.with_name("core.py.swp")
    saved.write_bytes(EDITED)
    saved.replace(core)  # how most editors save: a new file renamed over the old name
    assert stored.read_bytes() == ORIGINAL and core.stat().st_ino != stored.stat().st_ino
    _repaired(run_envlock, kit_index, core, downloads=0)


@pytest.mark.parametrize("damage", ["edited", "deleted"])
def test_a_store_file_found_changed_when_a_new_venv_uses_it_is_repaired_from_the_wheel(
    damage: str, kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    """The store's files are checked as each is used (not all before the install starts): one found
    changed mid-install has the entry unpacked again from the verified wheel, and the new venv gets the
    locked bytes, with no download and nothing half-installed."""
    core, stored = _synced(kit_index, run_envlock)
    if damage == "edited":
        core.chmod(0o644)
        core.write_bytes(EDITED + b"# longer\n")  # through the hardlink: the store's copy too
    else:
        stored.chmod(0o644)
        stored.unlink()
    requests = len(kit_index.requests)
    other = Path("other-venv")
    data = sync_json(run_envlock, "--venv", str(other))
    assert {p["name"] for p in data["packages"]} == {"a"}
    assert (site_packages(other) / "a" / "core.py").read_bytes() == ORIGINAL
    assert _store_copy(core).read_bytes() == ORIGINAL
    assert len(kit_index.requests) == requests
    assert run_envlock("check", "--deep", "--venv", str(other)).returncode == 0
