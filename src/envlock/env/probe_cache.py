# ruff: noqa: PTH100, PTH116, PTH118, PTH120
# (os.path on purpose: abspath keeps a venv's python symlink, whose place decides the venv's prefix)
"""The interpreter probe's answer remembered per interpreter, as uv keeps interpreter facts: a patch
sync would otherwise start the venv's Python once just to learn what it learned last time.

An entry (``interpreters/<sha256 of the path>.json`` in the cache) holds the probe's JSON answer and the
identity of everything that answer depends on, checked with a few ``stat`` calls before it is used: the
interpreter as named and as resolved (size, mtime, inode), ``pyvenv.cfg`` beside it or one folder up,
the standard library's ``os.py`` (a shared ``libpython`` or a Windows venv launcher stays the same file
when its Python is upgraded in place; the standard library does not), the kernel (``platform_release``
is a marker), the environment variables sysconfig reads, and the probe script itself. Any difference, or
an entry that cannot be read or parsed, is a miss: the probe runs and the entry is written again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from envlock.atomic import write_atomic
from envlock.cache_dir import memo_disabled
from envlock.env.interpreter import PROBE_SCRIPT, InterpreterInfo, Runner, info_from_json, probe_answer

AREA = "interpreters"
"""The cache area of the entries (under the cache's layout version, beside ``artifacts``)."""
_ENVIRONMENT = ("__PYVENV_LAUNCHER__", "_PYTHON_HOST_PLATFORM", "_PYTHON_SYSCONFIGDATA_NAME")
"""Variables the probe or sysconfig reads although the probe runs with ``-I`` (docs/sync.md)."""


def cached_probe(python: str | os.PathLike[str], runner: Runner, area: Path | None) -> InterpreterInfo:
    """What ``interpreter.probe`` would answer for ``python``, from ``area`` when the interpreter is
    unchanged since the entry was written; else the probe runs and the entry is (re)written. ``area``
    None: no cache, the probe runs."""
    area = None if memo_disabled() else area
    identity = _identity(python) if area is not None else None
    if area is None or identity is None:
        return probe_answer(python, runner)[0]
    entry = area / f"{hashlib.sha256(os.fsencode(identity['python'])).hexdigest()}.json"
    found = _read(entry, identity)
    if found is not None:
        return found
    info, answer = probe_answer(python, runner)
    record = {"identity": identity, "stdlib": _stdlib(answer), "answer": answer}
    with contextlib.suppress(OSError):  # a read-only cache costs the next sync the probe, nothing else
        write_atomic(entry, json.dumps(record, sort_keys=True).encode(), durable=False)
    return info


def _read(entry: Path, identity: dict[str, Any]) -> InterpreterInfo | None:
    """The entry's interpreter facts when its identity is ``identity`` and its standard library is the
    same file; None for anything else (missing, torn, edited, another interpreter)."""
    try:
        record = json.loads(entry.read_bytes())
        if record["identity"] != identity:
            return None
        answer = record["answer"]
        if record["stdlib"] != _stdlib(answer):
            return None
        return info_from_json(answer)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _identity(python: str | os.PathLike[str]) -> dict[str, Any] | None:
    """What the probe's answer for ``python`` depends on, as JSON values; None when ``python`` cannot be
    looked at (the probe then reports why)."""
    path = os.path.abspath(python)
    real = os.path.realpath(path)
    folder = os.path.dirname(path)
    named, resolved = _stat(path, follow=False), _stat(real)
    if named is None or resolved is None:
        return None
    return {
        "python": path,
        "named": named,
        "real": real,
        "resolved": resolved,
        "pyvenv_cfg": [_stat(os.path.join(d, "pyvenv.cfg")) for d in (folder, os.path.dirname(folder))],
        "system": _system(),
        "environment": {name: os.environ.get(name) for name in _ENVIRONMENT},
        "probe": hashlib.sha256(PROBE_SCRIPT.read_bytes()).hexdigest(),
    }


def _stdlib(answer: dict[str, Any]) -> list[int] | None:
    """The identity of the standard library's ``os.py`` the probe named (None: it named none)."""
    named = answer.get("stdlib_file")
    return _stat(named) if isinstance(named, str) else None


def _stat(path: str, *, follow: bool = True) -> list[int] | None:
    try:
        found = os.stat(path, follow_symlinks=follow)
    except (OSError, ValueError):
        return None
    return [found.st_size, found.st_mtime_ns, found.st_ino, found.st_dev]


def _system() -> list[str]:
    """The running kernel and machine (``platform_release``, ``platform_version`` and
    ``platform_machine`` come from it)."""
    if sys.platform == "win32":
        return [str(part) for part in sys.getwindowsversion()[:5]]
    return list(os.uname())
