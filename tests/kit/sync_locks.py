"""Test helpers for sync: PEP 751 lock dicts/files for kit-built distributions (before compile exists)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envlock.lock.lockfile import lock_from_dict, write_lock
from tests.kit.dists import DistSpec, build_all, normalize
from tests.kit.index import KitIndex


def file_entry(index: KitIndex, path: Path) -> dict[str, Any]:
    return {
        "name": path.name,
        "url": index.file_url(path.name),
        "size": path.stat().st_size,
        "hashes": {"sha256": index.sha256(path.name)},
    }


def package_entry(index: KitIndex, spec: DistSpec, paths: Sequence[Path], **extra: Any) -> dict[str, Any]:
    """A lock package for ``spec`` whose files ``paths`` were published on ``index``."""
    entry: dict[str, Any] = {"name": normalize(spec.name), "version": spec.version}
    wheels = [file_entry(index, p) for p in paths if p.name.endswith(".whl")]
    sdists = [file_entry(index, p) for p in paths if not p.name.endswith(".whl")]
    if wheels:
        entry["wheels"] = wheels
    if sdists:
        entry["sdist"] = sdists[0]
    entry.update(extra)
    return entry


def lock_for(
    index: KitIndex,
    specs: Sequence[DistSpec],
    *,
    top: Mapping[str, Any] | None = None,
    per_package: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Publish ``specs`` on ``index`` and return a lock dict naming all their files."""
    packages = []
    for spec in specs:
        paths = index.publish(spec)
        packages.append(package_entry(index, spec, paths, **dict((per_package or {}).get(spec.name, {}))))
    data: dict[str, Any] = {"lock-version": "1.0", "created-by": "envlock-tests", "packages": packages}
    data.update(top or {})
    return data


def write_lock_dict(path: Path, data: Mapping[str, Any]) -> Path:
    write_lock(path, lock_from_dict(data, source=str(path)))
    return path


def wheel_files(spec: DistSpec, out_dir: Path) -> list[Path]:
    return build_all(spec, out_dir)


def snapshot(root: Path, *, ignore: tuple[str, ...] = ()) -> dict[str, str]:
    """Every path under ``root`` -> sha256 of a file, ``dir``, or ``-> target`` of a symlink."""
    import hashlib
    import os

    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if any(rel == i or rel.startswith(i + "/") for i in ignore):
                continue
            if path.is_symlink():
                found[rel] = "-> " + str(path.readlink())
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def probe_venv(python: Path) -> Any:
    """interpreter.probe with site.py allowed to run (the probe itself passes ``-I -S``)."""
    import subprocess

    from envlock.env.interpreter import probe

    return probe(
        python,
        lambda cmd: subprocess.run(
            [c for c in cmd if c != "-S"], capture_output=True, text=True, check=False
        ),
    )
