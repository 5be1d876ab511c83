"""Shared pieces of the crash, concurrency and fault campaigns (issue 7): a lock change with adds, removes,
upgrades and a many-file distribution, template venvs copied per trial, and an INDEPENDENT verifier.

The verifier uses only the standard library and none of envlock's code: it reads every dist-info's
METADATA and RECORD itself, hashes every file RECORD lists, compares name==version with what the lock
wants, and walks the whole venv for files no RECORD owns, empty folders and temp/stash leftovers.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.sync_locks import lock_for, write_lock_dict

ALLOWED_STATE = frozenset({".envlock/lock", ".envlock/stamp.json"})
"""What envlock may leave in a venv after a completed sync."""


def _many(version: str, count: int) -> dict[str, bytes]:
    """A package with ``count`` small modules in nested folders; 2.0 renames a fifth and edits all."""
    files: dict[str, bytes] = {"many/__init__.py": f"__version__ = {version!r}\n".encode()}
    for i in range(count):
        folder = f"many/sub{i % 10}"
        files[f"{folder}/__init__.py"] = b""
        name = f"mod{i}" if version == "1.0" or i % 5 else f"renamed{i}"
        files[f"{folder}/{name}.py"] = f"VALUE = {i}  # {version}\n".encode() + b"x" * (i % 50)
    return files


OLD = (
    DistSpec("keep", "1.0"),
    DistSpec("up", "1.0", console_scripts={"up": "up:main"}),
    DistSpec("gone", "1.0", files={"gone/__init__.py": b"", "gone/core.py": b"X = 1\n"}),
    DistSpec("many", "1.0", files=_many("1.0", 300)),
)
"""The lock the venv is synced to before each trial."""
NEW = (
    DistSpec("keep", "1.0"),
    DistSpec("up", "2.0", console_scripts={"up": "up:main", "up2": "up:main"}),
    DistSpec("new", "1.0", data={"headers": {"new.h": b"/* h */\n"}, "data": {"share/new.txt": b"d\n"}}),
    DistSpec("many", "2.0", files=_many("2.0", 300)),
)
"""The lock each trial syncs to (add, remove, upgrade, many-file upgrade, scripts, headers, data)."""


def expected(specs: Sequence[DistSpec]) -> dict[str, str]:
    return {_normalize(s.name): s.version for s in specs}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Scenario:
    """A working folder with ``pylock.toml`` (the NEW lock), a template venv synced to OLD (moved aside
    and copied to ``.venv`` per trial: byte-identical to a synced venv there), a warm cache and the
    file set of a bare venv."""

    work: Path
    template: Path
    warm_cache: Path
    old_lock: Path
    new_lock: Path
    baseline: frozenset[str]

    @property
    def venv(self) -> Path:
        return self.work / ".venv"

    def fresh_venv(self) -> Path:
        """``.venv`` as the OLD sync left it (stamp included)."""
        if self.venv.exists():
            shutil.rmtree(self.venv)
        shutil.copytree(self.template, self.venv, symlinks=True)
        for sibling in self.work.glob("..venv.envlock-*"):
            if sibling.is_dir():
                shutil.rmtree(sibling)
            else:
                sibling.unlink()
        shutil.copyfile(self.new_lock, self.work / "pylock.toml")
        return self.venv


def envlock(*args: str, cwd: Path, cache: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(cache), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "envlock", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def make_scenario(index: KitIndex, work: Path) -> Scenario:
    work.mkdir(parents=True, exist_ok=True)
    old_lock = write_lock_dict(work / "old.toml", lock_for(index, list(OLD)))
    new_lock = write_lock_dict(work / "new.toml", lock_for(index, list(NEW)))
    warm = work.parent / "warm-cache"
    shutil.copyfile(old_lock, work / "pylock.toml")
    result = envlock("sync", cwd=work, cache=warm)
    assert result.returncode == 0, result.stderr
    template = work.parent / "template"
    (work / ".venv").rename(template)
    # Fill the warm cache with NEW's artifacts too (sync another venv to it).
    shutil.copyfile(new_lock, work / "pylock.toml")
    result = envlock("sync", "--venv", str(work.parent / "filler"), cwd=work, cache=warm)
    assert result.returncode == 0, result.stderr
    bare = work.parent / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    bare_files, bare_folders = _walk(bare)
    baseline = frozenset(bare_files) | frozenset(bare_folders)
    return Scenario(work, template, warm, old_lock, new_lock, baseline)


# ---------------------------------------------------------------------------------------------------
# the independent verifier


def _walk(root: Path) -> tuple[list[str], list[str]]:
    """(files and symlinks, real folders) under ``root``, relative, ``/``-separated."""
    files: list[str] = []
    folders: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in list(dirnames):
            path = base / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                files.append(rel)
                dirnames.remove(name)
            else:
                folders.append(rel)
        files.extend((base / name).relative_to(root).as_posix() for name in filenames)
    return files, folders


def _site_packages(venv: Path) -> Path | None:
    found = sorted(venv.glob("lib/python*/site-packages")) + sorted(venv.glob("Lib/site-packages"))
    return found[0] if found else None


def _headers(path: Path) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() not in headers:
            headers[key.strip().lower()] = value.strip()
    return headers


def verify_venv(venv: Path, want: Mapping[str, str], baseline: frozenset[str]) -> list[str]:
    """Everything wrong with ``venv`` against "exactly the lock ``want`` (name -> version)"; [] if none."""
    if not (venv / "pyvenv.cfg").is_file():
        return ["no venv"]
    site = _site_packages(venv)
    if site is None:
        return ["no site-packages"]
    problems: list[str] = []
    owned: set[str] = set()
    found: dict[str, str] = {}
    for meta in sorted(p for p in site.iterdir() if p.name.endswith((".dist-info", ".egg-info"))):
        label = meta.name
        if meta.name.endswith(".egg-info"):
            problems.append(f"{label}: an egg-info")
            continue
        if not (meta / "METADATA").is_file():
            problems.append(f"{label}: no METADATA")
            continue
        headers = _headers(meta / "METADATA")
        name, version = _normalize(headers.get("name", "?")), headers.get("version", "?")
        if name in found:
            problems.append(f"{label}: a second dist-info for {name}")
        found[name] = version
        record = meta / "RECORD"
        if not record.is_file():
            problems.append(f"{label}: no RECORD")
            continue
        with record.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        for row in rows:
            if not row or not row[0]:
                continue
            path = Path(os.path.normpath(site / row[0]))
            try:
                rel = path.relative_to(venv).as_posix()
            except ValueError:
                problems.append(f"{label}: RECORD names {row[0]} outside the venv")
                continue
            owned.add(rel)
            if len(row) < 2 or not row[1]:
                continue
            algorithm, _, digest = row[1].partition("=")
            try:
                data = path.read_bytes()
            except OSError:
                problems.append(f"{label}: {rel} missing")
                continue
            actual = base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode()
            if actual != digest.rstrip("="):
                problems.append(f"{label}: {rel} has other bytes than RECORD says")
            if len(row) > 2 and row[2] and int(row[2]) != len(data):
                problems.append(f"{label}: {rel} has another size than RECORD says")
    if found != dict(want):
        problems.append(f"installed {sorted(found.items())} != locked {sorted(want.items())}")
    files, folders = _walk(venv)
    for rel in sorted(files):
        if rel not in owned and rel not in baseline and rel not in ALLOWED_STATE:
            problems.append(f"foreign or leftover file: {rel}")
    has_files = {str(Path(f).parent.as_posix()) for f in files}
    expanded = set()
    for folder in has_files:
        while folder not in ("", "."):
            expanded.add(folder)
            folder = str(Path(folder).parent.as_posix())
    for rel in sorted(folders):
        if rel not in expanded and rel not in baseline:
            problems.append(f"empty folder: {rel}")
    return problems


def siblings(work: Path) -> list[str]:
    """Staging/old/swap leftovers beside ``work/.venv``."""
    return sorted(p.name for p in work.glob("..venv.envlock-*"))
