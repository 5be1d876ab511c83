"""What a full read of a lock gave a sync for one target, remembered: the selection, the
lock's default groups and the input files it names. A sync of the same lock bytes for the same target
answers from it without importing ``packaging.pylock`` (its validation), ``packaging.markers`` or
``packaging.tags`` (imports that would outweigh a one-package change: docs/benchmarks.md).

The lock's validation is the hostile-input boundary, so an entry exists only after a full read of these
exact bytes succeeded, and its key holds everything that read depended on: the lock's sha256, envlock's
version and modules, packaging's version (``lock_key``); the working folder and the lock path as given
(artifact paths are made absolute against them), the interpreter's markers and what its wheel tags are
computed from (``interpreter.tags_basis``), the extras, groups and ``--only-binary`` names (``entry_key``).
A lock with a project folder or git source is never remembered: its identity is read from the disk.
A memo (``envlock.memo``): anything unreadable or malformed in an entry is a miss, and the full read
runs again.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envlock import validate
from envlock.env.interpreter import InterpreterInfo, environment_for, tags_basis
from envlock.guard.stamp_writer import inputs_named
from envlock.memo import Memo
from envlock.memo import key as memo_key
from envlock.models.artifacts import Artifact, SelectedPackage, Selection
from envlock.runtime import canonical_name, sha256_bytes, sha256_text

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from envlock.index.http import HttpClient

AREA = "selections"
"""The memo area of the reads (and of the marks that a full read of a lock's bytes succeeded)."""
FORMAT = 2
VALIDATED = b"validated"


@dataclass(frozen=True)
class LockRead:
    """What a sync uses of its lock once the target is known."""

    selection: Selection
    default_groups: tuple[str, ...]
    """The lock's ``default-groups`` (what a sync without ``--group`` installs and stamps)."""
    inputs: tuple[str, ...]
    """The input files the lock's ``[tool.envlock]`` names, as paths (``stamp_writer.inputs_named``)."""
    extras: tuple[str, ...] = ()
    """The extras the lock offers (PEP 751 ``extras``), whether or not this sync installs them."""


@dataclass(frozen=True)
class SelectionAsked:
    """The choice a selection is made for, besides the lock and the interpreter."""

    extras: tuple[str, ...]
    groups: tuple[str, ...] | None
    only_binary: frozenset[str]


def read(
    where: tuple[Memo, str] | None,
    lock: Callable[[], Pylock],
    lock_path: Path,
    info: InterpreterInfo,
    asked: SelectionAsked,
) -> LockRead:
    """What a sync uses of ``lock`` for the interpreter ``info``: read in full (``lock`` parses and
    validates it), remembered in ``where`` (the memo and the lock's key; None: nothing is remembered)."""

    def full() -> LockRead:
        parsed = lock()
        made = LockRead(
            _select(parsed, info, asked, lock_path),
            tuple(parsed.default_groups or ()),
            tuple(inputs_named(parsed.tool, lock_path.absolute())),
            tuple(str(extra) for extra in parsed.extras or ()),
        )
        if where is not None and _encode(made) is not None:
            where[0].remember(_validated_key(where[1]), VALIDATED)
        return made

    if where is None:
        return full()
    memo, key = where
    return memo.through(memo_key(AREA, key, entry_key(lock_path, info, asked)), full, _encode, _decode)


def prime(lock_path: Path, lock_bytes: bytes, venv: Path, cache_dir: Path | None) -> None:
    """Remember the read that a plain ``envlock sync`` of a lock just written (``lock_path`` as that sync
    will be given it) into ``venv`` makes: no extras, the lock's default groups, the target the sync
    would decide now (the venv's interpreter, or the base a new venv is made from). That first sync then
    loads no lock model either. What is remembered is a full read of these exact bytes, as ``read``
    makes it; anything the sync is asked differently is another entry (a miss, read in full)."""
    # lazy: compile's own imports; the sync's hot path needs none of these
    from envlock.env import probe_cache
    from envlock.env.interpreter import run_subprocess
    from envlock.index.cache import Cache, default_cache_dir
    from envlock.sync.lock_input import is_requirements_file, parse_lock
    from envlock.sync.target import venv_target

    if is_requirements_file(lock_path, lock_bytes):  # read from its index: never remembered
        return
    cache = Cache(cache_dir or default_cache_dir())
    prober = functools.partial(
        probe_cache.cached_probe, runner=run_subprocess, memo=cache.memo(probe_cache.AREA)
    )
    target = venv_target(venv.absolute(), None, rebuild=False, default_python=sys.executable, prober=prober)
    where = (cache.memo(AREA), lock_key(sha256_bytes(lock_bytes)))
    asked = SelectionAsked(extras=(), groups=None, only_binary=frozenset())
    read(where, lambda: parse_lock(lock_path, lock_bytes, cache, _http_client), lock_path, target.info, asked)


def _http_client() -> HttpClient:
    """The index's HTTP client, for a hashed requirements file only (imported then: a lock needs none)."""
    from envlock.index.http import HttpClient  # lazy: a lock's read needs no HTTP client

    return HttpClient()


def _select(lock: Pylock, info: InterpreterInfo, asked: SelectionAsked, lock_path: Path) -> Selection:
    # lazy: selection evaluates the lock's markers for the target's tags (packaging.markers, .tags):
    # a remembered read needs neither
    from envlock.lock.selection import SelectionOptions, select

    options = SelectionOptions(extras=asked.extras, groups=asked.groups, only_binary=asked.only_binary)
    return select(lock, environment_for(info), options, lock_path=lock_path)


def lock_key(lock_sha: str) -> str:
    """The key of these lock bytes as read by this envlock and this packaging."""
    # lazy: packaging's own version only (its __init__ defines constants and imports nothing)
    import packaging

    return memo_key(AREA, FORMAT, lock_sha, packaging.__version__)


def validated(where: tuple[Memo, str]) -> bool:
    """A full read of the lock with this key succeeded before (its errors cannot come)."""
    memo, key = where
    return memo.recall(_validated_key(key), _is_validated) is not None


def _validated_key(lock: str) -> str:
    return memo_key(AREA, lock, "validated")


def _is_validated(body: bytes) -> bool:
    if body != VALIDATED:
        raise ValueError("not a validated mark")
    return True


def entry_key(lock_path: Path, info: InterpreterInfo, asked: SelectionAsked) -> str:
    document = [
        os.fspath(Path.cwd()),
        os.fspath(lock_path),
        sorted(info.markers.items()),
        tags_basis(info),
        asked.extras,
        asked.groups,
        sorted(asked.only_binary),
    ]
    return sha256_text(repr(document))


def _decode(body: bytes) -> LockRead:
    """The remembered read; ValueError (a miss) for anything that is not exactly what ``_encode`` writes."""
    data = json.loads(body)
    if data["format"] != FORMAT:
        raise ValueError("another format")
    packages = tuple(_package(item) for item in data["packages"])  # UnsafeInput is a ValueError
    groups, inputs, extras = (_strings(data[key]) for key in ("default_groups", "inputs", "extras"))
    return LockRead(Selection(packages), groups, inputs, extras)


def _encode(read: LockRead) -> bytes | None:
    """``read`` (made by a full read of the lock) as an entry; None for a lock with a source to build
    (its identity is read from the disk, never remembered)."""
    if any(package.artifact.origin is not None for package in read.selection.packages):
        return None
    document = {
        "format": FORMAT,
        "packages": [_record(package) for package in read.selection.packages],
        "default_groups": list(read.default_groups),
        "inputs": list(read.inputs),
        "extras": list(read.extras),
    }
    return json.dumps(document).encode()


def _record(package: SelectedPackage) -> dict[str, Any]:
    artifact = package.artifact
    return {
        "name": package.name,
        "version": package.version,
        "direct": package.direct,
        "filename": artifact.filename,
        "sha256": artifact.sha256,
        "url": artifact.url,
        "path": None if artifact.path is None else os.fspath(artifact.path),
        "size": artifact.size,
    }


def _package(item: dict[str, Any]) -> SelectedPackage:
    """An entry's package, checked as the lock's was (a hand-edited cache installs nothing unsafe)."""
    url, path, size = item["url"], item["path"], item["size"]
    if url is not None and (
        not isinstance(url, str) or validate.split_url(url).scheme.lower() not in validate.REMOTE_SCHEMES
    ):
        raise ValueError("url")
    if path is not None and not (isinstance(path, str) and Path(path).is_absolute()):
        raise ValueError("path")
    if size is not None and (type(size) is not int or size < 0):
        raise ValueError("size")
    name, version, direct = item["name"], item["version"], item["direct"]
    if not (isinstance(name, str) and name == canonical_name(name) and isinstance(version, str)):
        raise ValueError("package")
    if type(direct) is not bool:
        raise ValueError("direct")
    artifact = Artifact(
        filename=validate.file_name(item["filename"]),
        sha256=validate.sha256(item["sha256"]),
        url=url,
        path=None if path is None else Path(path),
        size=size,
    )
    return SelectedPackage(name=name, version=version, artifact=artifact, direct=direct)


def _strings(values: Sequence[object]) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError("strings")
    return tuple(values)
