# ruff: noqa: PTH100, PTH103, PTH108, PTH110, PTH116, PTH118, PTH119, PTH120, PTH208
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""The venv stamp: written after a successful sync, compared at launch (standard library only).

This module must run inside any venv without envlock installed (launchers and the entry-point guard
carry a copy of its source), so it imports only the standard library, keeps Python 3.8 syntax at run
time, and never imports anything from ``envlock``. Format: docs/stamp.md.

Layout inside a venv::

    <venv>/.envlock/stamp.json          the stamp (atomic: tmp + fsync + os.replace)
    <venv>/.envlock/sync-in-progress    present from the start of a sync until its stamp is written
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing, pathlib and dataclasses (import time)
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any, TypeAlias

    StrPath: TypeAlias = "str | os.PathLike[str]"

STAMP_FORMAT = 1
"""Version of the stamp's JSON layout; a reader refuses (as drift) any other value."""

STATE_DIR = ".envlock"
STAMP_NAME = "stamp.json"
MARKER_NAME = "sync-in-progress"

ENVLOCK_VERSION = "0.1.0"
"""Fallback for copies of this module that run without envlock (the writer always runs inside envlock)."""

_INTERPRETER_SCRIPT = (
    "import json, sys, sysconfig\n"
    "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3],"
    " 'implementation': sys.implementation.name,"
    " 'paths': sorted({sysconfig.get_path('purelib'), sysconfig.get_path('platlib')})}))\n"
)


# ---------------------------------------------------------------------------------------------------
# small file helpers (os.path and str on purpose: pathlib costs milliseconds to import at launch)


def state_dir(venv: StrPath) -> str:
    """``<venv>/.envlock``: envlock's folder inside a venv."""
    return os.path.join(os.fspath(venv), STATE_DIR)


def stamp_path(venv: StrPath) -> str:
    return os.path.join(os.fspath(venv), STATE_DIR, STAMP_NAME)


def marker_path(venv: StrPath) -> str:
    return os.path.join(os.fspath(venv), STATE_DIR, MARKER_NAME)


def _fsync_dir(directory: str) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows; NTFS journals renames
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a torn one."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(directory)


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


def sha256_file(path: StrPath) -> str:
    """Hex sha256 of a file's bytes."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def canonical_name(name: str) -> str:
    """PEP 503 normalized project name (``Prometheus_Client`` -> ``prometheus-client``)."""
    out = []
    previous_sep = False
    for char in name.lower():
        if char in "-_.":
            if not previous_sep:
                out.append("-")
            previous_sep = True
        else:
            out.append(char)
            previous_sep = False
    return "".join(out)


def _posix(path: str) -> str:
    return path.replace(os.sep, "/") if os.sep != "/" else path


def _relpath(path: StrPath, start: StrPath) -> str:
    """``path`` relative to ``start`` in POSIX form, or absolute when on another drive."""
    try:
        return _posix(os.path.relpath(os.path.abspath(path), os.path.abspath(start)))
    except ValueError:  # another drive on Windows
        return _posix(os.path.abspath(path))


def _stat_identity(path: StrPath) -> dict[str, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


# ---------------------------------------------------------------------------------------------------
# venv facts (cheap: pyvenv.cfg, a directory listing, stat calls)


def venv_python(venv: StrPath) -> str:
    """The interpreter of a venv, by layout (``Scripts/python.exe`` on Windows, else ``bin/python``)."""
    if os.name == "nt":
        return os.path.join(os.fspath(venv), "Scripts", "python.exe")
    return os.path.join(os.fspath(venv), "bin", "python")


def read_pyvenv_cfg(venv: StrPath) -> dict[str, str]:
    """The key = value pairs of ``<venv>/pyvenv.cfg`` (empty when there is none)."""
    values: dict[str, str] = {}
    try:
        with open(os.path.join(os.fspath(venv), "pyvenv.cfg"), encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def base_interpreter(venv: StrPath, python: StrPath) -> str:
    """The real interpreter binary behind a venv's python (a symlink on POSIX, a copy on Windows)."""
    resolved = os.path.realpath(python)
    real_venv = os.path.realpath(venv)
    try:
        inside = os.path.commonpath([resolved, real_venv]) == real_venv
    except ValueError:
        inside = False
    home = read_pyvenv_cfg(venv).get("home")
    if inside and home:  # a copied interpreter (Windows): the base interpreter is the one in `home`
        candidate = os.path.join(home, os.path.basename(os.fspath(python)))
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return resolved


def _interpreter_identity(venv: StrPath, python: StrPath, facts: dict[str, Any]) -> dict[str, Any]:
    base = base_interpreter(venv, python)
    return {
        "executable": _relpath(python, venv),
        "resolved": base,
        "stat": _stat_identity(base),
        "home": read_pyvenv_cfg(venv).get("home"),
        "version": facts["version"],
        "implementation": facts["implementation"],
    }


def _ask_interpreter(python: StrPath) -> dict[str, Any]:
    """Version and site-packages folders, from the interpreter itself (runs once, at sync time)."""
    import json
    import subprocess

    result = subprocess.run(
        [os.fspath(python), "-I", "-c", _INTERPRETER_SCRIPT], capture_output=True, text=True, check=True
    )
    facts: dict[str, Any] = json.loads(result.stdout)
    return facts


def _read_headers(path: str, wanted: Sequence[str]) -> dict[str, str]:
    """The first value of each wanted header of an RFC 822 style METADATA file (stops at the body)."""
    found: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if sep and key in wanted and key not in found:
                    found[key] = value.strip()
    except OSError:
        pass
    return found


def read_installer(dist_info: str) -> str | None:
    """The first line of a metadata folder's INSTALLER file (``pip``, ``envlock``, ``uv``), if any."""
    try:
        with open(os.path.join(dist_info, "INSTALLER"), encoding="utf-8", errors="replace") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return text.splitlines()[0].strip() if text else None


def metadata_dir_names(site: str) -> list[str]:
    """Sorted names of ``*.dist-info`` and ``*.egg-info`` entries of one site-packages folder."""
    try:
        names = os.listdir(site)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith((".dist-info", ".egg-info")))


def dist_name_version(site: str, dirname: str) -> tuple[str, str]:
    """Project name (normalized) and version of one metadata folder: METADATA first, else the name."""
    folder = os.path.join(site, dirname)
    filename = "METADATA" if dirname.endswith(".dist-info") else "PKG-INFO"
    headers = _read_headers(os.path.join(folder, filename), ("Name", "Version"))
    stem = dirname.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    return canonical_name(headers.get("Name", name)), headers.get("Version", version.partition("-")[0])


def describe_distribution(site: str, site_index: int, dirname: str) -> dict[str, Any]:
    """The stamp's record of one installed distribution (reads METADATA and INSTALLER: sync time only)."""
    name, version = dist_name_version(site, dirname)
    folder = os.path.join(site, dirname)
    return {
        "name": name,
        "version": version,
        "dir": dirname,
        "site": site_index,
        "installer": read_installer(folder),
        "record": _stat_identity(os.path.join(folder, "RECORD")),
    }


def _site_dirs(venv: StrPath, facts: dict[str, Any]) -> list[str]:
    """The venv's site-packages folders relative to the venv, without duplicates (lib64 -> lib)."""
    real_venv = os.path.realpath(venv)
    seen: list[str] = []
    for path in facts["paths"]:
        rel = _relpath(os.path.realpath(path), real_venv)
        if rel not in seen:
            seen.append(rel)
    return seen


def _input_records(lock_path: str, inputs: Sequence[str]) -> list[dict[str, Any]]:
    records = []
    lock_dir = os.path.dirname(os.path.abspath(lock_path))
    for path in sorted({os.path.abspath(p) for p in inputs}):
        record: dict[str, Any] = {"path": _relpath(path, lock_dir)}
        identity = _stat_identity(path)
        if identity is not None:
            record.update(identity, sha256=sha256_file(path))
        records.append(record)
    return records


def lock_inputs(lock_path: StrPath) -> list[str]:
    """The input files a lock names under ``[tool.envlock].inputs`` (relative to the lock's folder)."""
    try:
        import tomllib as toml_reader  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - Python 3.10, where envlock depends on tomli
        import tomli as toml_reader  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        with open(lock_path, encoding="utf-8") as handle:
            data = toml_reader.loads(handle.read())
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    tool = data.get("tool", {}).get("envlock", {})
    names = tool.get("inputs", []) if isinstance(tool, dict) else []
    lock_dir = os.path.dirname(os.path.abspath(lock_path))
    return [os.path.join(lock_dir, name) for name in names if isinstance(name, str)]


def _utc_now() -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---------------------------------------------------------------------------------------------------
# writer (called by envlock sync)


def begin_sync(venv: Path) -> None:
    """Mark ``venv`` as being synced (fsync'd) and drop its stamp. Call before the venv is touched.

    Until ``write_stamp`` runs, every check reports an interrupted sync, so a killed sync never leaves
    a venv that passes the check.
    """
    import json

    directory = state_dir(venv)
    os.makedirs(directory, exist_ok=True)
    payload = {"pid": os.getpid(), "started": _utc_now()}
    _write_atomic(marker_path(venv), (json.dumps(payload, sort_keys=True) + "\n").encode())
    if _unlink(stamp_path(venv)):
        _fsync_dir(directory)


def build_stamp(
    venv: Path,
    *,
    lock_path: Path,
    lock_bytes_sha256: str,
    extras: Sequence[str],
    groups: Sequence[str],
    python: str,
    inputs: Sequence[StrPath] | None = None,
    envlock_version: str | None = None,
) -> dict[str, Any]:
    """The stamp of ``venv`` as it is now (the JSON document ``write_stamp`` stores)."""
    facts = _ask_interpreter(python)
    sites = _site_dirs(venv, facts)
    distributions = []
    for index, rel in enumerate(sites):
        site = os.path.join(os.fspath(venv), rel)
        for dirname in metadata_dir_names(site):
            distributions.append(describe_distribution(site, index, dirname))
    distributions.sort(key=lambda d: (d["name"], d["version"], d["site"], d["dir"]))
    input_paths = lock_inputs(lock_path) if inputs is None else [os.fspath(p) for p in inputs]
    return {
        "format": STAMP_FORMAT,
        "envlock": envlock_version or _envlock_version(),
        "synced_at": _utc_now(),
        "lock": {
            "path": _relpath(lock_path, venv),
            "name": os.path.basename(os.fspath(lock_path)),
            "sha256": lock_bytes_sha256,
        },
        "inputs": _input_records(os.fspath(lock_path), input_paths),
        "extras": sorted(set(extras)),
        "groups": sorted(set(groups)),
        "interpreter": _interpreter_identity(venv, python, facts),
        "site_packages": sites,
        "distributions": distributions,
    }


def write_stamp(
    venv: Path,
    *,
    lock_path: Path,
    lock_bytes_sha256: str,
    extras: Sequence[str],
    groups: Sequence[str],
    python: str,
    inputs: Sequence[StrPath] | None = None,
) -> None:
    """Stamp ``venv`` after a successful sync from ``lock_path``; then remove the in-progress marker.

    ``python`` is the venv's interpreter; its identity and the installed-set fingerprint are computed
    here. ``inputs`` are the lock's input files (default: ``[tool.envlock].inputs`` of the lock); their
    content hashes let the standard-library check notice an input edited after the sync.
    """
    import json

    stamp = build_stamp(
        venv,
        lock_path=lock_path,
        lock_bytes_sha256=lock_bytes_sha256,
        extras=extras,
        groups=groups,
        python=python,
        inputs=inputs,
    )
    directory = state_dir(venv)
    os.makedirs(directory, exist_ok=True)
    data = json.dumps(stamp, indent=1, sort_keys=True) + "\n"
    _write_atomic(stamp_path(venv), data.encode("utf-8"))
    if _unlink(marker_path(venv)):
        _fsync_dir(directory)


def _envlock_version() -> str:
    module = sys.modules.get("envlock")
    version = getattr(module, "__version__", None)
    return version if isinstance(version, str) else ENVLOCK_VERSION
