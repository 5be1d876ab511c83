# ruff: noqa: PTH100, PTH103, PTH118, PTH119, PTH120
# (os.path on purpose: the stamp records the same strings the stdlib-only runtime compares)
"""Writes the venv stamp after a successful sync (``envlock sync`` only; never copied next to launchers).

The stamp records what the runtime in ``guard/stamp.py`` compares at launch: the lock's hash, the input
files' identities, the interpreter and every installed distribution. Format: docs/stamp.md.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envlock import __version__, runtime
from envlock.atomic import StrPath, remove_if_present, write_atomic

_INTERPRETER_SCRIPT = (
    # Run with -I -S: site.py would execute the venv's .pth files. Without it a venv's sys.prefix is its
    # base's, so the venv is found as site.py finds it (pyvenv.cfg next to the executable or one folder
    # up; envlock.env._probe.venv_prefix) and its folders come from the scheme a venv uses ('venv' where
    # sysconfig has it, 3.11+), giving what sysconfig.get_path answered with site.py.
    "import json, os, sys, sysconfig\n"
    "exe = os.path.dirname(os.path.abspath(sys.executable))\n"
    "venv = any(os.path.isfile(os.path.join(d, 'pyvenv.cfg')) for d in (exe, os.path.dirname(exe)))\n"
    "if venv:\n"
    "    names = sysconfig.get_scheme_names()\n"
    "    scheme = 'venv' if 'venv' in names else ('nt' if os.name == 'nt' else 'posix_prefix')\n"
    "    v = {'base': os.path.dirname(exe), 'platbase': os.path.dirname(exe)}\n"
    "    paths = {sysconfig.get_path(k, scheme, v) for k in ('purelib', 'platlib')}\n"
    "else:\n"
    "    paths = {sysconfig.get_path('purelib'), sysconfig.get_path('platlib')}\n"
    "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3],"
    " 'implementation': sys.implementation.name, 'paths': sorted(paths)}))\n"
)


def _relpath(path: StrPath, start: StrPath) -> str:
    """``path`` relative to ``start`` in POSIX form, or absolute when on another drive."""
    try:
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(start))
    except ValueError:  # another drive on Windows
        relative = os.path.abspath(path)
    return relative.replace(os.sep, "/")


def _interpreter_identity(venv: StrPath, python: StrPath, facts: Mapping[str, Any]) -> dict[str, Any]:
    base = runtime.base_interpreter(venv, python)
    return {
        "executable": _relpath(python, venv),
        "resolved": base,
        "stat": runtime.stat_identity(base),
        "home": runtime.read_pyvenv_cfg(venv).get("home"),
        "version": facts["version"],
        "implementation": facts["implementation"],
    }


def _ask_interpreter(python: StrPath) -> dict[str, Any]:
    """Version and site-packages folders, from the interpreter itself (runs once, at sync time)."""
    import subprocess  # lazy: a patch stamps from the probe it ran already (no process)

    result = subprocess.run(
        [os.fspath(python), "-I", "-S", "-c", _INTERPRETER_SCRIPT], capture_output=True, text=True, check=True
    )
    facts: dict[str, Any] = json.loads(result.stdout)
    return facts


def describe_distribution(site: str, site_index: int, dirname: str) -> dict[str, Any]:
    """The stamp's record of one installed distribution (reads METADATA and INSTALLER: sync time only)."""
    name, version = runtime.dist_name_version(site, dirname)
    folder = os.path.join(site, dirname)
    return {
        "name": name,
        "version": version,
        "dir": dirname,
        "site": site_index,
        "installer": runtime.read_installer(folder),
        "record": runtime.stat_identity(os.path.join(folder, "RECORD")),
    }


def _described(site: str, index: int, dirname: str, known: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``describe_distribution``, or the previous stamp's record when its RECORD is still that file."""
    previous = known.get(os.path.join(site, dirname))
    if previous is not None:
        record = runtime.stat_identity(os.path.join(site, dirname, "RECORD"))
        if record is not None and record == previous.get("record"):
            return {
                "name": previous["name"],
                "version": previous["version"],
                "dir": dirname,
                "site": index,
                "installer": previous.get("installer"),
                "record": record,
            }
    return describe_distribution(site, index, dirname)


def _site_dirs(venv: StrPath, facts: Mapping[str, Any]) -> list[str]:
    """The venv's site-packages folders relative to the venv, without duplicates (lib64 -> lib)."""
    real_venv = os.path.realpath(venv)
    seen: list[str] = []
    for path in facts["paths"]:
        rel = _relpath(os.path.realpath(path), real_venv)
        if rel not in seen:
            seen.append(rel)
    return seen


def input_records(lock_path: str, inputs: Sequence[str]) -> list[dict[str, Any]]:
    """The stamp's record of each input file: its path from the lock's folder, ``stat`` identity and
    sha256 (the key of the cached fresh verdict too: ``inputs/fresh_cache.py``)."""
    records = []
    lock_dir = os.path.dirname(os.path.abspath(lock_path))
    for path in sorted({os.path.abspath(p) for p in inputs}):
        record: dict[str, Any] = {"path": _relpath(path, lock_dir)}
        identity = runtime.stat_identity(path)
        if identity is not None:
            record.update(identity, sha256=runtime.sha256_file(path))
        records.append(record)
    return records


def lock_inputs(lock_path: StrPath) -> list[str]:
    """The input files a lock names under ``[tool.envlock].inputs`` (relative to the lock's folder)."""
    from envlock.tomlshim import tomllib  # lazy: a sync has its lock's inputs already (no TOML parser)

    try:
        with open(lock_path, encoding="utf-8") as handle:
            data = tomllib.loads(handle.read())
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    return inputs_named(data.get("tool"), lock_path)


def inputs_named(tool: Mapping[str, Any] | None, lock_path: StrPath) -> list[str]:
    """The input files a lock's ``[tool]`` table names under ``envlock.inputs``, as paths (a sync has the
    lock parsed already: it need not read it again)."""
    envlock = tool.get("envlock", {}) if isinstance(tool, Mapping) else {}
    names = envlock.get("inputs", []) if isinstance(envlock, Mapping) else []
    names = names if isinstance(names, list) else []
    lock_dir = os.path.dirname(os.path.abspath(lock_path))
    return [os.path.join(lock_dir, name) for name in names if isinstance(name, str)]


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def begin_sync(venv: Path) -> None:
    """Mark ``venv`` as being synced (fsync'd) and drop its stamp. Call before the venv is touched.

    Until ``write_stamp`` runs, every check reports an interrupted sync, so a killed sync never leaves
    a venv that passes the check.
    """
    directory = runtime.state_dir(venv)
    os.makedirs(directory, exist_ok=True)
    payload = {"pid": os.getpid(), "started": _utc_now()}
    write_atomic(runtime.marker_path(venv), (json.dumps(payload, sort_keys=True) + "\n").encode())
    # Not fsync'd: the marker is durable, and a venv with it fails every check whatever its stamp says.
    remove_if_present(runtime.stamp_path(venv))


@dataclass(frozen=True)
class SyncedFrom:
    """What a sync installed from: the facts the stamp records besides the venv's own state."""

    lock_path: Path
    lock_bytes_sha256: str
    extras: Sequence[str]
    groups: Sequence[str]
    python: str
    """The venv's interpreter; its identity and the installed set are read through it."""
    inputs: Sequence[StrPath] | None = None
    """The lock's input files (default: ``[tool.envlock].inputs`` of the lock); their content hashes let
    the standard-library check notice an input edited after the sync."""
    stale: str | None = None
    """Why the lock was already older than its inputs when it was synced: every check then reports the
    lock stale until a compile and a sync."""
    facts: Mapping[str, Any] | None = None
    """The interpreter's version, implementation and site-packages ``paths`` when the sync probed it
    already (else it is asked: one subprocess)."""
    known: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The previous stamp's records of the dist-info folders it vouched for (absolute path -> record;
    ``noop.vouched``): one whose RECORD is still that file keeps its name, version and installer without
    its METADATA and INSTALLER being read again."""


def build_stamp(venv: Path, source: SyncedFrom) -> dict[str, Any]:
    """The stamp of ``venv`` as it is now (the JSON document ``write_stamp`` stores)."""
    facts = source.facts if source.facts is not None else _ask_interpreter(source.python)
    sites = _site_dirs(venv, facts)
    distributions = []
    for index, rel in enumerate(sites):
        site = os.path.join(os.fspath(venv), rel)
        for dirname in runtime.metadata_dir_names(site):
            distributions.append(_described(site, index, dirname, source.known))
    distributions.sort(key=lambda d: (d["name"], d["version"], d["site"], d["dir"]))
    lock_path = source.lock_path
    inputs = source.inputs
    input_paths = lock_inputs(lock_path) if inputs is None else [os.fspath(p) for p in inputs]
    return {
        "format": runtime.STAMP_FORMAT,
        "envlock": __version__,
        "synced_at": _utc_now(),
        "lock": {
            "path": _relpath(lock_path, venv),
            "name": os.path.basename(os.fspath(lock_path)),
            "sha256": source.lock_bytes_sha256,
        },
        "inputs": input_records(os.fspath(lock_path), input_paths),
        "extras": sorted(set(source.extras)),
        "groups": sorted(set(source.groups)),
        "interpreter": _interpreter_identity(venv, source.python, facts),
        "site_packages": sites,
        "distributions": distributions,
        **({"lock_stale": source.stale} if source.stale else {}),
    }


def write_stamp(venv: Path, source: SyncedFrom) -> None:
    """Stamp ``venv`` after a successful sync from ``source``; then remove the in-progress marker."""
    document = build_stamp(venv, source)
    directory = runtime.state_dir(venv)
    os.makedirs(directory, exist_ok=True)
    data = json.dumps(document, indent=1, sort_keys=True) + "\n"
    write_atomic(runtime.stamp_path(venv), data.encode("utf-8"))
    # Not fsync'd: a power cut that brings the marker back only makes the next check ask for a sync.
    remove_if_present(runtime.marker_path(venv))
