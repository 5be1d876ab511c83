# ruff: noqa: PTH116, PTH117
# (os.path on plain strings on purpose: this module is on the quick compile's start-up path)
"""The cached "lock kept" verdict of ``envlock compile``, answered before click is imported.

When a compile concludes that its lock is already what it would write, it remembers that in a memo
(``envlock.memo``, area ``compile-kept``). The key is a hash of the request: the command line's values, the
working folder, envlock's version and modules, the running Python, and every ``ENVLOCK_*`` variable. The
verdict holds what the outcome was read from: each file's sha256 (or that it did not exist), each
interpreter's identity, the hash of each ``${VAR}`` the requirements files name, and the lock's sha256.
``recall`` answers only when all of them still hold; anything else (no entry, a damaged or foreign entry, one
changed byte) is a miss and the full compile runs. Standard library, ``runtime`` and ``memo`` only,
and no ``pathlib``, ``typing`` or ``dataclasses``: each costs the answer milliseconds to import.
"""

from __future__ import annotations

import os
import stat
import sys

from envlock import memo, option_table
from envlock.runtime import sha256_file, sha256_text, stat_identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

CACHE_AREA = "compile-kept"
"""The memo area of the verdicts (``envlock.memo``)."""

FORMAT = "envlock-compile-kept-1"

_KINDS = {"flag": "flag", "multi": "texts", "value": "text", "arguments": "paths"}
REQUEST_FIELDS = {
    option.dest: "path" if option.kind == "value" and option.type != "text" else _KINDS[option.kind]
    for option in option_table.options("compile")
    if option.quick and option.dest != "cache_dir"
}
"""The compile options that decide its outcome, by ``CompileRequest``/``CompileSettings`` field name, and
their kind (``check``: ``--check``'s verdict is its own): those the quick answer parses (the option
table's ``quick`` column), but ``--cache-dir``, which says where verdicts are. ``-U``, ``-P`` and
``--dry-run`` are never answered from a verdict."""

RACY_NS = 50_000_000
"""A file modified less than this before the compile started (or after) may have changed while it was
read: no verdict is remembered then (file times come from a clock that lags by up to one tick)."""

_CACHE_VARIABLE = "ENVLOCK_CACHE_DIR"
_HEX = frozenset("0123456789abcdef")
_VARIABLE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def request_key(values: Mapping[str, object], cwd: str, environ: Mapping[str, str]) -> str:
    """The key of a compile request: ``values`` (every ``REQUEST_FIELDS`` name, as the click command
    received it: paths as ``str(Path(...))``, lists in the order given), the working folder, envlock and
    the Python running it, and the ``ENVLOCK_*`` variables (the cache folder's apart: it holds the key;
    passwords apart: never written, not even hashed)."""
    request: dict[str, object] = {}
    for name, kind in REQUEST_FIELDS.items():
        value = values[name]
        if kind in ("paths", "texts"):
            assert isinstance(value, (list, tuple))
            value = [str(item) for item in value]
        elif kind == "flag":
            value = bool(value)
        else:
            value = None if value is None else str(value)
        request[name] = value
    document = {
        "format": FORMAT,
        "python": [sys.executable, sys.version],
        "cwd": cwd,
        "request": request,
        # an index's password (ENVLOCK_INDEX_<NAME>_PASSWORD) decides no outcome and is kept out of every file
        "environ": {
            k: v
            for k, v in environ.items()
            if k.startswith("ENVLOCK_") and k != _CACHE_VARIABLE and not k.endswith("_PASSWORD")
        },
    }
    return memo.key(CACHE_AREA, document)  # (repr, not json: its import would cost the answer milliseconds)


def file_digest(path: str) -> str | None:
    """sha256 of a regular file, None when nothing is at ``path`` (a dangling link included: compile
    finds no file there either); OSError for anything else (a folder, a FIFO: never opened, so a hostile
    entry cannot make the answer wait)."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(found.st_mode):
        raise OSError(f"{path}: not a regular file")
    return sha256_file(path)


def interpreter_identity(path: str) -> dict[str, object] | None:
    """The file an interpreter path leads to (links followed) and its size and mtime; None if absent."""
    real = os.path.realpath(path)
    found = stat_identity(real)
    return None if found is None else {"real": real, **found}


def observe(
    files: Iterable[str], interpreters: Iterable[str], variables: Iterable[str], started_ns: int
) -> dict[str, Any] | None:
    """What a compile's outcome was read from, as it is now: each file's sha256, each interpreter's
    identity, the hash of each variable's value. None when it cannot be trusted: a file or interpreter
    modified since ``started_ns`` (or just before), or one that cannot be read."""
    racy = started_ns - RACY_NS
    try:
        digests = {}
        for path in sorted(set(files)):
            digest = file_digest(path)
            if digest is not None and os.stat(path).st_mtime_ns >= racy:
                return None
            digests[path] = digest
        identities = {}
        for path in sorted(set(interpreters)):
            found = stat_identity(os.path.realpath(path))
            if found is not None and found["mtime_ns"] >= racy:
                return None
            identities[path] = interpreter_identity(path)
    except OSError:
        return None
    return {"files": digests, "interpreters": identities, "variables": _variable_hashes(variables)}


def _variable_hashes(names: Iterable[str]) -> dict[str, str | None]:
    """sha256 of each variable's value (the values may be secrets: never stored), None if unset."""
    values = {name: os.environ.get(name) for name in sorted(set(names))}
    return {name: None if value is None else sha256_text(value) for name, value in values.items()}


def remember(key: str, cache_dir: str, verdict: Mapping[str, Any]) -> None:
    """Store ``verdict`` (``message``, ``lock`` [path, sha256] and what ``observe`` saw) under ``key``
    (a memo: best effort, off in a cache that is not believed)."""
    text = _dumps(verdict)
    if text is not None:
        memo.Memo(CACHE_AREA, cache_dir).remember(key, text.encode("utf-8", "surrogateescape"))


def recall(key: str, cache_dir: str) -> str | None:
    """The message of the verdict under ``key`` when everything it was read from still holds, else None
    (no entry, an entry of another shape, anything changed)."""
    return memo.Memo(CACHE_AREA, cache_dir).recall(key, _message)


def _message(body: bytes) -> str:
    verdict = _loads(body.decode("utf-8", "surrogateescape"))
    message = None if verdict is None else _still_holds(verdict)
    if message is None:
        raise ValueError("the verdict no longer holds")
    return message


_ROW_FIELDS = {"message": 1, "lock": 2, "file": 2, "interpreter": 4, "variable": 2}
"""A verdict is text: its format line, then one tab-separated row per fact (kind, then these many
fields; ``-`` for absent). Reading it takes no json import."""


def _dumps(verdict: Mapping[str, Any]) -> str | None:
    """The verdict as text; None when a value cannot be written plainly (a tab or line break in it)."""
    rows = [("message", verdict["message"]), ("lock", *verdict["lock"])]
    rows += [("file", path, digest or "-") for path, digest in verdict["files"].items()]
    for path, found in verdict["interpreters"].items():
        if found is None:
            rows.append(("interpreter", path, "-", "-", "-"))
        else:
            rows.append(("interpreter", path, found["real"], str(found["size"]), str(found["mtime_ns"])))
    rows += [("variable", name, digest or "-") for name, digest in verdict["variables"].items()]
    fields = [str(field) for row in rows for field in row]
    if any("\t" in field or "\n" in field or "\r" in field for field in fields):
        return None
    return "".join(f"{line}\n" for line in [FORMAT, *("\t".join(str(f) for f in row) for row in rows)])


def _loads(text: str) -> dict[str, Any] | None:
    """The verdict ``_dumps`` wrote (shapes only: ``_still_holds`` checks the values); None for any other
    text, a truncated one included."""
    rows = text.split("\n")
    if rows[0] != FORMAT or rows[-1] != "":
        return None
    verdict: dict[str, Any] = {"files": {}, "interpreters": {}, "variables": {}}
    for row in rows[1:-1]:
        kind, *fields = row.split("\t")
        if len(fields) != _ROW_FIELDS.get(kind) or (kind in ("message", "lock") and kind in verdict):
            return None
        if kind in ("message", "lock"):
            verdict[kind] = fields[0] if kind == "message" else fields
        elif kind == "interpreter":
            path, real, size, mtime = fields
            found = None if real == "-" else {"real": real, "size": int(size), "mtime_ns": int(mtime)}
            verdict["interpreters"][path] = found
        else:
            verdict[f"{kind}s"][fields[0]] = None if fields[1] == "-" else fields[1]
    return verdict


def _still_holds(verdict: dict[str, Any]) -> str | None:
    """``verdict``'s message when its values are well formed and every fact it records is still true
    (a missing message or lock: KeyError, a miss)."""
    message, lock = verdict["message"], verdict["lock"]
    files, interpreters, variables = verdict["files"], verdict["interpreters"], verdict["variables"]
    if not (message.isprintable() and 0 < len(message) <= 4096 and _is_path(lock[0]) and _is_digest(lock[1])):
        return None
    if not all(_is_path(p) and (d is None or _is_digest(d)) for p, d in files.items()):
        return None
    if not all(_is_variable(n) and (d is None or _is_digest(d)) for n, d in variables.items()):
        return None
    if not all(_is_path(p) for p in interpreters):
        return None
    if file_digest(lock[0]) != lock[1] or _variable_hashes(variables) != variables:
        return None
    if any(interpreter_identity(path) != found for path, found in interpreters.items()):
        return None
    if any(file_digest(path) != digest for path, digest in files.items()):
        return None
    return str(message)


def _is_path(value: object) -> bool:
    return isinstance(value, str) and os.path.isabs(value) and "\0" not in value


def _is_digest(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _is_variable(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 256 and set(value) <= _VARIABLE_CHARS
