# ruff: noqa: PTH100, PTH116, PTH118, PTH120
# (os.path on purpose: abspath keeps a venv's python symlink, whose place decides the venv's prefix)
"""The interpreter probe's answer remembered per interpreter, as uv keeps interpreter facts: a patch
sync would otherwise start the venv's Python once just to learn what it learned last time.

A memo (``envlock.memo``, area ``interpreters``, one entry per interpreter path) holds the probe's JSON
answer and the identity of everything that answer depends on, checked with a few ``stat`` calls before
it is used: the
interpreter as named and as resolved (size, mtime, inode), ``pyvenv.cfg`` beside it or one folder up,
the standard library's ``os.py`` (a shared ``libpython`` or a Windows venv launcher stays the same file
when its Python is upgraded in place; the standard library does not), the kernel (``platform_release``
is a marker), the environment variables sysconfig reads, and the probe script itself. Any difference, or
an entry that cannot be read, parsed, or names install folders outside its venv, is a miss: the probe
runs and the answer is remembered again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

from envlock.env.interpreter import PROBE_SCRIPT, InterpreterInfo, Runner, info_from_json, probe_answer
from envlock.memo import Memo
from envlock.memo import key as memo_key

AREA = "interpreters"
"""The memo area of the answers (``envlock.memo``)."""
_ENVIRONMENT = ("__PYVENV_LAUNCHER__", "_PYTHON_HOST_PLATFORM", "_PYTHON_SYSCONFIGDATA_NAME")
"""Variables the probe or sysconfig reads although the probe runs with ``-I`` (docs/sync.md)."""


def cached_probe(python: str | os.PathLike[str], runner: Runner, memo: Memo | None) -> InterpreterInfo:
    """What ``interpreter.probe`` answers for ``python``: the probe's answer remembered in ``memo``
    (area ``AREA``) while the interpreter is unchanged; ``memo`` None: the probe runs."""
    identity = _identity(python) if memo is not None else None
    if memo is None or identity is None:
        return probe_answer(python, runner)[0]

    def decode(body: bytes) -> tuple[InterpreterInfo, dict[str, Any]]:
        record = json.loads(body)
        answer = record["answer"]
        info = info_from_json(answer)
        if record["identity"] != identity or record["stdlib"] != _stdlib(answer):
            raise ValueError("the interpreter changed")
        if not _describes(info, identity["python"]):
            raise ValueError("another interpreter's answer")
        return info, answer

    def encode(found: tuple[InterpreterInfo, dict[str, Any]]) -> bytes:
        record = {"identity": identity, "stdlib": _stdlib(found[1]), "answer": found[1]}
        return json.dumps(record, sort_keys=True).encode()

    key = memo_key(AREA, identity["python"])  # one entry per interpreter path, rewritten when it changes
    return memo.through(key, lambda: probe_answer(python, runner), encode, decode)[0]


def _describes(info: InterpreterInfo, python: str) -> bool:
    """A venv's answer is of the venv ``python`` is in (``<venv>/bin/python``): a remembered answer
    naming another prefix, whose install folders are elsewhere, is not this interpreter's."""
    venv = os.path.dirname(os.path.dirname(python))
    return not info.is_venv or os.path.realpath(info.prefix) == os.path.realpath(venv)


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
