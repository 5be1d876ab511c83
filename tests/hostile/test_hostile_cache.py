"""Shared caches (issue 26.2): a cache folder others can write is never believed. A wheel planted under the
lock's sha256 name, a stored wheel edited in place, a probe answer whose install folders climb out of the
venv, a fresh verdict planted for drifted inputs: each is refused, hashed or recomputed, so the venv gets
exactly the lock's bytes, nothing is written outside it, and ``check``/``run`` still see the drift
(docs/safety.md, "The cache trust rule")."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envlock.guard.launch_check import check_options
from envlock.inputs import fresh_cache
from envlock.runtime import drift
from tests.kit.dists import DistSpec
from tests.kit.hostile import lock_wheels, raw_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import lock_for, snapshot, write_lock_dict

VENV = Path(".venv")
POSIX_ONLY = pytest.mark.skipif(os.name == "nt", reason="folder modes and owners are POSIX")
pytestmark = POSIX_ONLY


def cache_root() -> Path:
    return Path(os.environ["ENVLOCK_CACHE_DIR"])


def share(*folders: Path) -> None:
    """Make ``folders`` writable by everyone (a shared CI volume), as an attacker needs them."""
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def said_once(result: subprocess.CompletedProcess[str], folder: Path) -> None:
    """No traceback, and the untrusted cache named on exactly one line."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if str(folder) in line]
    assert len(lines) == 1, result.stderr


def rewrite_entry(entry: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit a remembered JSON answer as an attacker with write access would: the JSON changed and, when the
    entry carries a checksum of its body (``envlock.memo``'s header line), that checksum made to match."""
    data = entry.read_bytes()
    if data.startswith(b"{"):
        record = json.loads(data)
        edit(record)
        entry.write_bytes(json.dumps(record).encode())
        return
    header, _, body = data.partition(b"\n")
    record = json.loads(body)
    edit(record)
    body = json.dumps(record).encode()
    fields = header.split(b"\t")
    fields[-1] = hashlib.sha256(body).hexdigest().encode()
    entry.write_bytes(b"\t".join(fields) + b"\n" + body)


def plant_fresh(cache: Path, key: str) -> None:
    """A fresh verdict under ``key``, in every layout an envlock reads (one empty file per key before the
    memo layer; a memo entry since)."""
    old = cache / fresh_cache.CACHE_AREA / key
    old.parent.mkdir(parents=True, exist_ok=True)
    old.touch()
    new = cache / "v1" / fresh_cache.CACHE_AREA / key
    new.parent.mkdir(parents=True, exist_ok=True)
    body = b"fresh"
    new.write_bytes(
        b"\t".join((b"envlock-memo-1", key.encode(), hashlib.sha256(body).hexdigest().encode()))
        + b"\n"
        + body
    )


# ---------------------------------------------------------------------------------------------------
# stored artifacts: hashed before use when others can write the cache


def test_a_wheel_planted_under_the_locks_hash_in_a_shared_cache_is_never_installed(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    good = raw_wheel(tmp_path / "good", "pkg", "1.0", {"pkg/__init__.py": b"REAL = 1\n"})
    evil = raw_wheel(tmp_path / "evil", "pkg", "1.0", {"pkg/__init__.py": b"EVIL = 1\n"})
    lock_wheels(kit_index, ("pkg", good))
    sha256 = hashlib.sha256(good.read_bytes()).hexdigest()
    cache = cache_root()
    planted = cache / "v1" / "artifacts" / sha256[:2] / sha256[2:] / good.name
    share(cache, cache / "v1", cache / "v1" / "artifacts", planted.parent.parent, planted.parent)
    planted.write_bytes(evil.read_bytes())
    result = run_envlock("sync", "--venv", VENV)
    assert result.returncode == 0, result.stderr
    assert (site_packages(VENV) / "pkg" / "__init__.py").read_bytes() == b"REAL = 1\n"
    said_once(result, cache)
    assert run_envlock("check", "--deep").returncode == 0


def test_a_shared_caches_wheel_is_used_through_a_private_copy_never_linked(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    """Hashing the shared file and then reading it again would let its owner swap it in between; and a
    venv file hardlinked to a shared store could be changed later. So a good wheel in a shared cache is
    copied into this process's own area while hashed (an offline sync still works from it), and no file
    of the venv shares an inode with anything in the shared cache."""
    good = raw_wheel(tmp_path / "good", "pkg", "1.0", {"pkg/__init__.py": b"REAL = 1\n"})
    lock_wheels(kit_index, ("pkg", good))
    sha256 = hashlib.sha256(good.read_bytes()).hexdigest()
    cache = cache_root()
    planted = cache / "v1" / "artifacts" / sha256[:2] / sha256[2:] / good.name
    share(cache, cache / "v1", cache / "v1" / "artifacts", planted.parent.parent, planted.parent)
    planted.write_bytes(good.read_bytes())
    result = run_envlock("sync", "--venv", VENV, "--offline")
    assert result.returncode == 0, result.stderr
    assert (site_packages(VENV) / "pkg" / "__init__.py").read_bytes() == b"REAL = 1\n"
    shared = {(p.stat().st_dev, p.stat().st_ino) for p in cache.rglob("*") if p.is_file()}
    linked = [p for p in VENV.rglob("*") if p.is_file() and (p.stat().st_dev, p.stat().st_ino) in shared]
    assert linked == []
    said_once(result, cache)


def test_a_stored_wheel_edited_in_a_shared_cache_is_unpacked_again(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    """An edit that keeps each file's size and mtime passes the store's stat check; in a cache others can
    write, every wheel is unpacked again from its hashed bytes."""
    good = raw_wheel(tmp_path / "good", "pkg", "1.0", {"pkg/__init__.py": b"REAL = 1\n"})
    lock_wheels(kit_index, ("pkg", good))
    assert run_envlock("sync", "--venv", VENV).returncode == 0
    cache = cache_root()
    sha256 = hashlib.sha256(good.read_bytes()).hexdigest()
    entry = cache / "v1" / "unpacked" / sha256
    stored = entry / "files" / "purelib" / "pkg" / "__init__.py"
    before = stored.stat()
    share(cache, cache / "v1", cache / "v1" / "unpacked", entry)
    stored.unlink()  # (the copy in .venv is a hardlink: it keeps the real bytes)
    stored.write_bytes(b"EVIL = 1\n")
    os.utime(stored, ns=(before.st_atime_ns, before.st_mtime_ns))
    result = run_envlock("sync", "--venv", "other")
    assert result.returncode == 0, result.stderr
    assert (site_packages(Path("other")) / "pkg" / "__init__.py").read_bytes() == b"REAL = 1\n"
    said_once(result, cache)


def test_a_wheel_planted_as_an_sdists_build_in_a_shared_cache_is_never_installed(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    """A wheel built from a verified sdist is remembered by the sdist's hash, not checked by one: in a cache
    others can write, the sdist is built again in a private folder."""
    write_lock_dict(
        Path("pylock.toml"), lock_for(kit_index, [DistSpec("built", "1.0", wheel=False, sdist=True)])
    )
    assert run_envlock("sync", "--venv", VENV).returncode == 0
    cache = cache_root()
    (built,) = (cache / "v1" / "builds").rglob("*.whl")
    evil = raw_wheel(tmp_path / "evil", "built", "1.0", {"built/__init__.py": b"EVIL = 1\n"})
    share(
        cache, cache / "v1", *[folder for folder in (cache / "v1" / "builds").rglob("*") if folder.is_dir()]
    )
    built.write_bytes(evil.read_bytes())
    result = run_envlock("sync", "--venv", "other")
    assert result.returncode == 0, result.stderr
    assert (site_packages(Path("other")) / "built" / "__init__.py").read_bytes() != b"EVIL = 1\n"
    said_once(result, cache)


@pytest.mark.parametrize("how", ["others may write", "another user owns it", "through another user's link"])
def test_an_untrusted_cache_believes_no_remembered_answer(
    how: str, kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    """Nothing remembered is read or written in it (the sync works it all out), and it is said once."""
    lock_wheels(kit_index, ("pkg", raw_wheel(tmp_path / "w", "pkg", "1.0", {"pkg/__init__.py": b""})))
    cache = cache_root()
    if how == "others may write":
        cache.mkdir(parents=True)
        cache.chmod(0o777)
    elif os.getuid() != 0:
        pytest.skip("needs root to give a folder or a link to another user")
    elif how == "another user owns it":
        cache.mkdir(parents=True)
        os.chown(cache, 12345, 12345)
    else:  # the folder is this user's, the link to it another's (who can point it elsewhere)
        (tmp_path / "real-cache").mkdir(mode=0o700)
        cache.symlink_to(tmp_path / "real-cache")
        os.lchown(cache, 12345, 12345)
    result = run_envlock("sync", "--venv", VENV)
    assert result.returncode == 0, result.stderr
    said_once(result, cache)
    remembered = [area for area in ("interpreters", "selections", "claims") if (cache / "v1" / area).exists()]
    assert remembered == [], remembered


# ---------------------------------------------------------------------------------------------------
# install folders: normalised, and inside the venv whoever reported them


def test_a_remembered_probe_answer_climbing_out_of_the_venv_writes_nothing_outside(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    one = raw_wheel(tmp_path / "w", "one", "1.0", {"one/__init__.py": b""})
    two = raw_wheel(
        tmp_path / "w",
        "two",
        "1.0",
        {"two/__init__.py": b""},
        entry_points="[console_scripts]\ntwo = two:main\n",
    )
    three = raw_wheel(tmp_path / "w", "three", "1.0", {"three/__init__.py": b""})
    lock_wheels(kit_index, ("one", one), path="first.toml")
    assert run_envlock("sync", "first.toml", "--venv", VENV).returncode == 0
    lock_wheels(kit_index, ("one", one), ("three", three), path="second.toml")
    assert run_envlock("sync", "second.toml", "--venv", VENV).returncode == 0  # a patch: the venv probed
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sentinel").write_text("untouched\n")
    before = snapshot(outside)

    def climb(record: dict[str, Any]) -> None:
        answer = record["answer"]
        for key in answer["paths"]:  # up to / from wherever the prefix is moved to, then down to outside/
            answer["paths"][key] = answer["prefix"] + "/.." * 40 + str(outside / key)

    entries = sorted((cache_root() / "v1" / "interpreters").iterdir())
    assert entries
    for entry in entries:
        rewrite_entry(entry, climb)
    lock_wheels(kit_index, ("one", one), ("two", two))
    result = run_envlock("sync", "--venv", VENV)
    assert "Traceback" not in result.stderr, result.stderr
    assert snapshot(outside) == before
    assert result.returncode == 0, result.stderr  # the answer was a miss: the probe ran again
    assert (site_packages(VENV) / "two" / "__init__.py").is_file()
    assert (VENV / "bin" / "two").is_file()
    assert run_envlock("check", "--deep").returncode == 0


def test_a_live_probe_naming_install_folders_outside_the_venv_is_refused(tmp_path: Path) -> None:
    """The probe's own answer is held to the rule too: the interpreter is named, nothing is written."""
    from envlock.env.interpreter import probe_answer, run_subprocess
    from envlock.errors import TargetEnvironmentError

    def lying(command: list[str]) -> subprocess.CompletedProcess[str]:
        result = run_subprocess(command)
        answer = json.loads(result.stdout)
        answer["is_venv"], answer["prefix"] = True, str(tmp_path / "venv")
        answer["paths"]["purelib"] = str(tmp_path / "venv" / ".." / "outside")
        return subprocess.CompletedProcess(command, 0, json.dumps(answer), "")

    with pytest.raises(TargetEnvironmentError, match="outside the venv") as raised:
        probe_answer(Path(sys.executable), lying)
    assert sys.executable in str(raised.value)


# ---------------------------------------------------------------------------------------------------
# remembered verdicts: never believed from a cache others can write


@pytest.fixture
def drifted(kit_index: KitIndex, run_envlock: RunEnvlock) -> str:
    """A synced project whose requirements.in now names ``b``, which its lock lacks; the key of the fresh
    verdict that would hide that."""
    kit_index.publish(DistSpec("a", "1.0"), DistSpec("b", "1.0"))
    Path("requirements.in").write_text("a\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    run_envlock("sync", check=True)
    Path("requirements.in").write_text("a\nb\n")
    found = drift.check(".venv", check_options(".venv", None))
    assert found.stamp is not None and found.lock is not None
    key = fresh_cache.cache_key(found.stamp, found.lock, current=True)
    assert key is not None
    return key


def test_a_planted_fresh_verdict_in_a_shared_cache_hides_no_drift(
    drifted: str, run_envlock: RunEnvlock
) -> None:
    cache = cache_root()
    plant_fresh(cache, drifted)
    # The plant is what this envlock reads: in an owner-only cache it is believed (its owner's own word).
    assert run_envlock("check").returncode == 0
    share(cache, cache / "v1", cache / "v1" / fresh_cache.CACHE_AREA, cache / fresh_cache.CACHE_AREA)
    result = run_envlock("check")
    assert result.returncode == 1, result.stderr
    assert "requirements.in" in result.stderr and "Traceback" not in result.stderr
    ran = run_envlock("run", "--", "python", "-c", "open('ran', 'w')")
    assert ran.returncode != 0 and "requirements.in" in ran.stderr, ran.stderr
    assert not Path("ran").exists()


def test_compile_with_a_shared_cache_writes_the_same_lock_and_says_so_once(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0", requires=("b",)), DistSpec("b", "2.0"))
    Path("requirements.in").write_text("a\n")
    run_envlock("compile", "--index-url", kit_index.url, "--cache-dir", tmp_path / "private", check=True)
    expected = Path("pylock.toml").read_bytes()
    shared = tmp_path / "shared"
    share(shared)
    for _ in range(2):  # the second finds a cache filled by the first, and believes none of it
        Path("pylock.toml").unlink()
        result = run_envlock("compile", "--index-url", kit_index.url, "--cache-dir", shared)
        assert result.returncode == 0, result.stderr
        said_once(result, shared)
        assert Path("pylock.toml").read_bytes() == expected
    assert not (shared / "v1" / "compile-kept").exists()
