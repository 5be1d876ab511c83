"""A one-package change costs the changed package: the distributions the stamp vouches for are neither
looked into nor touched; one whose RECORD is not the stamped file is checked as before."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from envlock.guard import stamp_writer
from envlock.sync import noop
from tests.cli.test_sync_cli import VENV, installed, sync_json, write
from tests.kit.dists import DistSpec
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.venvs import site_packages

FILES = {"kept/__init__.py": b"", "kept/core.py": b"core = 1\n"}


def test_vouched_distributions_follow_the_stamp(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("moved", "1.0"))
    sync_json(run_envlock)
    site = site_packages(VENV)
    dist_infos = {os.path.abspath(p) for p in site.glob("*.dist-info")}  # noqa: PTH100
    vouched = noop.vouched(VENV)
    assert set(vouched) == dist_infos and len(dist_infos) == 2
    assert {(r["name"], r["version"], r["installer"]) for r in vouched.values()} == {
        ("kept", "1.0", "envlock"),
        ("moved", "1.0", "envlock"),
    }
    record = site / "kept-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "\n")  # reinstalled or edited since the sync
    assert set(noop.vouched(VENV)) == dist_infos - {os.path.abspath(record.parent)}  # noqa: PTH100
    (VENV / ".envlock" / "sync-in-progress").write_text("")
    assert noop.vouched(VENV) == {}


def test_a_patch_leaves_vouched_distributions_alone(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("moved", "1.0"))
    sync_json(run_envlock)
    core = site_packages(VENV) / "kept" / "core.py"
    inode = core.stat().st_ino
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("moved", "2.0"))
    data = sync_json(run_envlock)
    assert {p["name"]: p["action"] for p in data["packages"]} == {"kept": "keep", "moved": "replace"}
    assert core.stat().st_ino == inode
    # A distribution whose RECORD is not the stamped one is checked again (here: a file is missing).
    record = site_packages(VENV) / "kept-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text())
    core.unlink()
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("moved", "1.0"))
    data = sync_json(run_envlock)
    assert {p["name"]: p["action"] for p in data["packages"]} == {"kept": "replace", "moved": "replace"}
    assert Path(core).read_bytes() == b"core = 1\n"
    assert run_envlock("check", "--deep").returncode == 0


def test_a_patch_stamps_what_a_full_look_would_stamp(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    """The stamp keeps the records of the distributions it vouched for: each equals what reading the
    distribution again gives (name, version, installer, RECORD identity)."""
    write(
        kit_index,
        DistSpec("kept", "1.0", files=FILES),
        DistSpec("Other_Name", "3.0"),
        DistSpec("moved", "1.0"),
    )
    sync_json(run_envlock)
    write(
        kit_index,
        DistSpec("kept", "1.0", files=FILES),
        DistSpec("Other_Name", "3.0"),
        DistSpec("moved", "2.0"),
    )
    sync_json(run_envlock)
    data = json.loads((VENV / ".envlock" / "stamp.json").read_text())
    site = os.path.join(os.path.abspath(VENV), data["site_packages"][0])  # noqa: PTH100, PTH118
    recorded = sorted(data["distributions"], key=lambda d: d["dir"])
    fresh = [
        stamp_writer.describe_distribution(site, 0, d)
        for d in sorted(p.name for p in Path(site).iterdir())
        if d.endswith(".dist-info")
    ]
    assert recorded == fresh
    assert [d["dir"] for d in recorded] == [
        "kept-1.0.dist-info",
        "moved-2.0.dist-info",
        "other_name-3.0.dist-info",
    ]
    assert run_envlock("check").returncode == 0


PATCH_FROM_THE_CACHE = """
import subprocess
from pathlib import Path
from envlock.sync.syncer import SyncEdges, SyncOptions, sync
runs = []
def runner(command):
    runs.append(list(command))
    return subprocess.run(list(command), capture_output=True, text=True, check=False)
result = sync(SyncOptions(lock_path=Path("pylock.toml"), venv=Path(".venv")), SyncEdges(runner=runner))
assert sorted((i.name, i.action.value) for i in result.plan.items) == [("kept", "keep"), ("moved", "replace")]
assert runs == [], runs
"""


def test_a_patch_from_the_cache_starts_no_python_and_loads_no_http_code(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    """The venv's interpreter is known from the probe cache, every wheel is in the artifact cache: no
    subprocess, and none of the HTTP client or index code is imported (docs/sync.md, "Probe cache")."""
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("moved", "1.0"))
    sync_json(run_envlock)
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("moved", "2.0"))
    sync_json(run_envlock)
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("moved", "1.0"))
    loaded = modules_loaded([sys.executable], PATCH_FROM_THE_CACHE, [])
    assert installed() == {"kept": "1.0", "moved": "1.0"}
    http = {"urllib3", "envlock.index.http", "envlock.index.transport", "envlock.index.client"}
    assert "envlock.sync.syncer" in loaded and not http & loaded
    assert "filelock" not in loaded  # the venv lock is fcntl's on POSIX
    # Both wheels are in the unpacked store and have no entry points: installer is not needed.
    assert not {"installer", "envlock.sync.unpacked"} & loaded
    # Nor the compile inputs (the kit's lock records no fingerprint: there is no verdict to compute).
    assert not {"envlock.inputs.config", "envlock.env.targets", "envlock.resolve"} & loaded


def test_a_patch_sees_metadata_edited_behind_the_stamp(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    """The stamp vouches for a RECORD, not for METADATA or INSTALLER: edited with RECORD untouched, the
    distribution is read as any other and replaced, as before the stamp was trusted for its records."""
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("other", "1.0"), DistSpec("moved", "1.0"))
    sync_json(run_envlock)
    metadata = site_packages(VENV) / "kept-1.0.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: 0.9", 1))
    (site_packages(VENV) / "other-1.0.dist-info" / "INSTALLER").write_text("pip\n")
    write(kit_index, DistSpec("kept", "1.0", files=FILES), DistSpec("other", "1.0"), DistSpec("moved", "2.0"))
    data = sync_json(run_envlock)
    actions = {p["name"]: p["action"] for p in data["packages"]}
    assert actions == {"kept": "replace", "other": "replace", "moved": "replace"}
    assert "Version: 1.0" in metadata.read_text()
    assert run_envlock("check", "--deep").returncode == 0
