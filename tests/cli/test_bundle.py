"""``envlock bundle`` then ``envlock sync --find-links DIR --offline`` (issue 24, offline bundles): the
bundle holds exactly the lock's files for the targets; an offline sync from it in a fresh HOME and cache,
with every index unreachable, makes the same venv as an online sync; a missing or tampered file is named
and refused with the venv unchanged."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec, build_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock, VenvFactory
from tests.kit.sources import make_project, publish_backends
from tests.kit.sync_locks import snapshot
from tests.kit.venvs import site_packages

HERE = f"cp3{sys.version_info[1]}-linux-x86_64"
WINDOWS = "cp312-windows-amd64"
NATIVE_HERE = f"native-1.0-cp3{sys.version_info[1]}-cp3{sys.version_info[1]}-manylinux_2_17_x86_64.whl"
NATIVE_WINDOWS = "native-1.0-cp312-cp312-win_amd64.whl"
PURE = ["app-1.0-py3-none-any.whl", "lib-2.0-py3-none-any.whl"]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.uname().machine != "x86_64", reason="the lock's targets"
)


def _compile(index: KitIndex, run_envlock: RunEnvlock) -> None:
    index.publish(
        DistSpec(
            "app",
            "1.0",
            requires=("lib", "native", "winonly; sys_platform == 'win32'"),
            console_scripts={"app": "app:main"},
        ),
        DistSpec("lib", "2.0"),
        DistSpec("winonly", "1.0"),
        DistSpec(
            "native",
            "1.0",
            tags=(
                f"cp3{sys.version_info[1]}-cp3{sys.version_info[1]}-manylinux_2_17_x86_64",
                "cp312-cp312-win_amd64",
            ),
        ),
    )
    Path("requirements.in").write_text("app\n")
    run_envlock("compile", "--index-url", index.url, "--target", HERE, "--target", WINDOWS, check=True)


def _truth(venv: Path) -> dict[str, str]:
    """Every distribution of the venv (name and version: its dist-info folder) -> its RECORD (every
    installed file's path, sha256 and size)."""
    site = site_packages(venv)
    return {p.name: (p / "RECORD").read_text() for p in sorted(site.glob("*.dist-info"))}


def _names(folder: str) -> list[str]:
    return sorted(path.name for path in Path(folder).iterdir())


def _assert_verified(folder: str, index: KitIndex) -> None:
    """Every file of ``folder`` is the index's file of its name, byte for byte."""
    for path in Path(folder).iterdir():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == index.sha256(path.name)


def _contents(venv: Path) -> dict[str, str]:
    """Every path of the venv and its sha256, but for the venv lock a sync takes (``.envlock/lock``)."""
    return {k: v for k, v in snapshot(venv).items() if k not in (".envlock", ".envlock/lock")}


def _unreachable() -> str:
    """An index URL on a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple/"


def _offline_env(tmp: Path, name: str) -> dict[str, str]:
    """A fresh HOME and cache, and an index nothing answers on."""
    home = tmp / f"{name}-home"
    home.mkdir()
    return {
        "HOME": str(home),
        "ENVLOCK_CACHE_DIR": str(tmp / f"{name}-cache"),
        "ENVLOCK_INDEX_URL": _unreachable(),
    }


def test_offline_sync_from_a_bundle_makes_the_same_venv(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    _compile(kit_index, run_envlock)
    run_envlock("sync", check=True)
    online = _truth(Path(".venv"))
    assert sorted(online) == ["app-1.0.dist-info", "lib-2.0.dist-info", "native-1.0.dist-info"]
    result = run_envlock("bundle", "-o", "bundle", check=True)
    assert "bundled 3 files (3 new) for 1 target in bundle" in result.stdout
    assert _names("bundle") == sorted([*PURE, NATIVE_HERE])  # nothing else: no URL, no secret
    _assert_verified("bundle", kit_index)
    again = run_envlock("bundle", "-o", "bundle", check=True)
    assert "bundled 3 files (0 new)" in again.stdout  # rerunnable: verified files kept

    kit_index.stop()
    shutil.rmtree(".venv")
    env = _offline_env(tmp_path, "offline")
    result = run_envlock("sync", "--find-links", "bundle", "--offline", env=env)
    assert result.returncode == 0, result.stderr
    assert _truth(Path(".venv")) == online  # every RECORD hash, every name and version
    assert run_envlock("check", env=env).returncode == 0


def test_missing_and_tampered_files_are_refused_with_the_venv_unchanged(
    kit_index: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, tmp_path: Path
) -> None:
    _compile(kit_index, run_envlock)
    run_envlock("bundle", "-o", "bundle", check=True)
    kit_index.stop()
    venv = venv_factory()
    before = _contents(venv)

    original = Path("bundle", PURE[1]).read_bytes()
    Path("bundle", PURE[1]).unlink()
    result = run_envlock(
        "sync", "--venv", venv, "--find-links", "bundle", "--offline", env=_offline_env(tmp_path, "missing")
    )
    assert result.returncode == 1, result.stderr
    assert f"not in the cache nor in --find-links bundle: {PURE[1]}" in result.stderr
    assert _contents(venv) == before

    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 1  # one bit: the size the lock records still holds
    Path("bundle", PURE[1]).write_bytes(tampered)
    env = _offline_env(tmp_path, "tampered")
    result = run_envlock("sync", "--venv", venv, "--find-links", "bundle", "--offline", env=env)
    assert result.returncode == 1, result.stderr
    assert f"hash mismatch for {PURE[1]}" in result.stderr
    assert f"bundle/{PURE[1]})" in result.stderr and "hint: bundle it again" in result.stderr
    assert "Traceback" not in result.stderr
    assert _contents(venv) == before
    cache = Path(env["ENVLOCK_CACHE_DIR"])
    assert not list(cache.rglob(PURE[1]))  # the refused bytes never entered the cache

    result = run_envlock("sync", "--venv", venv, "--find-links", "nope", "--offline")
    assert result.returncode == 2 and "'nope' does not exist" in result.stderr


def test_a_fifo_in_the_bundle_is_refused_not_read(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    _compile(kit_index, run_envlock)
    run_envlock("bundle", "-o", "bundle", check=True)
    Path("bundle", PURE[1]).unlink()
    os.mkfifo(Path("bundle", PURE[1]))  # opening it for reading would block forever
    kit_index.stop()
    env = _offline_env(tmp_path, "fifo")
    result = run_envlock("sync", "--find-links", "bundle", "--offline", env=env)
    assert result.returncode == 2, result.stderr  # bad input, as a lock's local path naming a FIFO
    assert f"bundle/{PURE[1]}: it is a FIFO, not a regular file" in result.stderr
    assert not Path(".venv").exists()


def test_bundle_for_other_targets_takes_their_wheels_and_replaces_bad_files(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    _compile(kit_index, run_envlock)
    run_envlock("bundle", "-o", "win", "--target", WINDOWS, check=True)
    assert _names("win") == sorted([*PURE, NATIVE_WINDOWS, "winonly-1.0-py3-none-any.whl"])

    Path("both").mkdir()
    Path("both", NATIVE_HERE).write_bytes(b"not the wheel")  # a damaged file of the lock's name
    os.mkfifo(Path("both", PURE[0]))  # never read: replaced
    result = run_envlock("bundle", "-o", "both", "--target", HERE, "--target", WINDOWS, check=True)
    assert "bundled 5 files (5 new) for 2 targets" in result.stdout
    assert _names("both") == sorted([*PURE, NATIVE_HERE, NATIVE_WINDOWS, "winonly-1.0-py3-none-any.whl"])
    _assert_verified("both", kit_index)

    kit_index.stop()
    env = _offline_env(tmp_path, "into")
    run_envlock(
        "sync",
        "--target",
        WINDOWS,
        "--into",
        "layout",
        "--find-links",
        "win",
        "--offline",
        env=env,
        check=True,
    )
    assert (Path("layout/Lib/site-packages") / "native-1.0.dist-info").is_dir()

    result = run_envlock("bundle", "-o", "mac", "--target", "cp313-macos-arm64")
    assert result.returncode == 1 and "is not one of the lock's targets" in result.stderr
    assert not Path("mac").exists()
    result = run_envlock("bundle", "-o", "x", "--target", WINDOWS, "--python", sys.executable)
    assert result.returncode == 2 and "--venv and --python do not apply" in result.stderr


def test_a_project_folder_is_named_as_not_bundled(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    publish_backends(kit_index)
    kit_index.publish(DistSpec("lib", "2.0"))
    make_project(Path("proj").absolute(), "proj", backend="flit", dependencies=["lib"])
    Path("requirements.in").write_text("./proj\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    result = run_envlock("bundle", "-o", "bundle", check=True)
    assert "warning: not bundled: proj (" in result.stderr
    assert "is a project folder or git source, not a file" in result.stderr
    assert _names("bundle") == [PURE[1]]


def test_an_sdist_is_bundled_named_and_built_offline(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    kit_index.publish(
        DistSpec("old", "1.0", wheel=False, sdist=True)
    )  # an in-tree backend: no build requires
    Path("requirements.in").write_text("old\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    result = run_envlock("bundle", "-o", "bundle", check=True)
    assert "warning: bundled as sdists, built where they are installed: old 1.0" in result.stderr
    assert _names("bundle") == ["old-1.0.tar.gz"]
    kit_index.stop()
    result = run_envlock("sync", "--find-links", "bundle", "--offline", env=_offline_env(tmp_path, "sdist"))
    assert result.returncode == 0, result.stderr
    assert sorted(_truth(Path(".venv"))) == ["old-1.0.dist-info"]


def test_a_locked_local_file_is_bundled_and_found_there_once_gone(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    kit_index.publish(DistSpec("lib", "2.0"))
    wheel = build_wheel(DistSpec("thing", "1.0", requires=("lib",)), Path("local"))
    Path("requirements.in").write_text(f"./local/{wheel.name}\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    run_envlock("bundle", "-o", "bundle", check=True)
    assert _names("bundle") == [PURE[1], wheel.name]
    kit_index.stop()
    shutil.rmtree("local")  # the lock's path no longer exists on the installing machine
    result = run_envlock("sync", "--find-links", "bundle", "--offline", env=_offline_env(tmp_path, "local"))
    assert result.returncode == 0, result.stderr
    assert sorted(_truth(Path(".venv"))) == ["lib-2.0.dist-info", "thing-1.0.dist-info"]
