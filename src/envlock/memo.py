# ruff: noqa: PTH100, PTH102, PTH116, PTH118, PTH120
# (os.path on plain strings on purpose: `envlock check` and the quick compile read memos before pathlib loads)
"""Remembered answers (memos): the one owner of where they live, their keys, how they are written and
read, and the cache trust rule every remembered answer and stored artifact is under (docs/safety.md).

A memo stands for a function: ``Memo.through(key, compute, encode, decode)`` answers from the entry
stored under ``key`` when there is a sound one, else calls ``compute`` (the only implementation of the
answer) and stores what it gave. Entries live in ``<cache root>/v1/<kind>/``, one file per key, named
by the key's sha256 and holding that name again and their body's sha256: a missing, torn, edited,
renamed, oversized or foreign entry (a link, a folder, a FIFO) is a miss, never an error.

The trust rule: a cache folder (the root, its layout folder and a memo's area) is believed only when it is
this user's, writable by no one else and not reached through another user's link. Otherwise every memo misses
and nothing is remembered, the artifact stores hash every file before use (``index.cache.Cache``), and sync
and compile say so once on stderr (``say_distrusted``). ``ENVLOCK_NO_MEMO=1`` (``cache_dir.memo_disabled``)
turns every memo off the same way. Standard library only, and no ``pathlib``, ``typing`` or ``dataclasses``:
``envlock check`` reads its fresh verdict here (tests pin its imports).
"""

from __future__ import annotations

import os
import stat
import sys

from envlock import __version__
from envlock.cache_dir import default_cache_path, memo_disabled
from envlock.runtime import sha256_bytes, sha256_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

LAYOUT = "v1"
"""The cache's layout folder (``index.cache.CACHE_LAYOUT_VERSION``): every area is under it."""
FORMAT = b"envlock-memo-1"
"""First field of every entry; an entry of another format is a miss."""
CODE_AREA = "code"
"""The memo area of the code closures (``closure``) of the memos that carry their code identity."""
MAX_ENTRY_BYTES = 1 << 24
"""An entry larger than this is a miss (never read whole: a hostile cache cannot make us read GiBs)."""

_said: set[str] = set()
_code: list[tuple[str, int, int]] = []
_code_digest: list[str] = []
_digests: dict[tuple[str, str | None], str | None] = {}


def cache_root(given: str | os.PathLike[str] | None = None) -> str:
    """The one cache folder: ``given`` (``--cache-dir``), else ``ENVLOCK_CACHE_DIR``, else the user's."""
    return os.fspath(given) if given else default_cache_path()  # (platformdirs only without a folder named)


def distrusted(root: str | os.PathLike[str]) -> str | None:
    """Why the cache at ``root`` must not be believed (its root or layout folder is another user's, is
    writable by others, or is reached through another user's link), or None when it may be. A folder
    not made yet is trusted: it will be made owner-only."""
    root = os.fspath(root)
    for folder in (root, os.path.join(root, LAYOUT)):
        reason = _folder_distrusted(folder)
        if reason is not None:
            return f"{folder} {reason}"
    return None


def _folder_distrusted(folder: str) -> str | None:
    try:
        link = os.lstat(folder)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot be looked at ({error.strerror})"
    if os.name == "nt":  # Windows folders carry no such mode bits; their ACLs are the user profile's
        return None
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (0, os.getuid()):
        return f"is a link owned by another user (uid {link.st_uid})"
    try:
        found = os.stat(folder) if stat.S_ISLNK(link.st_mode) else link
    except OSError as error:
        return f"cannot be looked at ({error.strerror})"
    if not stat.S_ISDIR(found.st_mode):
        return "is not a folder"
    if found.st_uid != os.getuid():
        return f"is owned by another user (uid {found.st_uid})"
    if found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"is writable by others (mode {stat.S_IMODE(found.st_mode):o})"
    return None


def say_distrusted(root: str | os.PathLike[str], reason: str) -> None:
    """Tell the user once per process why the cache is used without remembered answers (one line)."""
    root = os.fspath(root)
    if root in _said:
        return
    _said.add(root)
    sys.stderr.write(
        f"warning: cache not trusted: {reason}; remembered answers are off and every cached artifact is "
        f"hashed before use (make it owner-only: chmod 700, or give another --cache-dir)\n"
    )


def code_identity() -> list[tuple[str, int, int]]:
    """envlock's own modules (path, mtime, size): an answer of other code (an upgrade, an edited
    checkout run from source) never answers. One ``scandir`` per package folder (~1 ms), once."""
    if _code:
        return _code
    package = os.path.dirname(os.path.abspath(__file__))
    found = []
    folders = [package]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    info = entry.stat()
                    found.append((entry.path, info.st_mtime_ns, info.st_size))
    _code.extend(sorted(found))
    return _code


def key(kind: str, *parts: object) -> str:
    """The key of an answer: its kind, what it was computed from (``parts``, as ``repr`` writes them) and
    the code computing it (envlock's version and modules; a memo that names its code: ``Memo.key``)."""
    if not _code_digest:  # the modules' list hashed once per process, not once per key
        rows = "\n".join(f"{path}\0{mtime}\0{size}" for path, mtime, size in code_identity())
        _code_digest.append(sha256_text(f"{__version__}\n{rows}"))
    return _keyed(kind, _code_digest[0], parts)


def _keyed(kind: str, code: str, parts: tuple[object, ...]) -> str:
    return sha256_text(repr([kind, code, list(parts)]))


def _package() -> str:
    """envlock's folder (the one whose modules run in this process)."""
    return os.path.dirname(os.path.abspath(__file__))


def code_digest(module: str, remembered: Memo) -> str | None:
    """The identity of the code ``module`` runs: envlock's version and folder, and the mtime and size of
    each file and folder of its import closure (``closure``) as they are now; None when that closure is not
    known cheaply (``remembered``, area ``code``, is off or untrusted) or not at all. Once per process,
    module and cache."""
    asked = (module, remembered.root)
    if asked not in _digests:
        rows = closure_rows(module, remembered)
        text = None if rows is None else f"{__version__}\n{_package()}\n{rows.decode('utf-8')}"
        _digests[asked] = None if text is None else sha256_text(text)
    return _digests[asked]


def closure_rows(module: str, remembered: Memo) -> bytes | None:
    """The identity rows of ``closure(module)`` as the files are now: from the entry ``remembered`` holds
    for ``module`` while every file and folder it names is unchanged (the closure is a function of their
    contents, and a module added under a name one of them imports changes its folder), else read from the
    modules' text (``code_closure``: tens of milliseconds; a first run, an upgrade, an edit) and
    remembered. None
    when ``remembered`` is off or untrusted, or the closure cannot be read."""
    if remembered.area() is None and remembered.area(make=True) is None:
        return None
    entry = _keyed(CODE_AREA, f"{__version__}\n{_package()}", (module,))
    rows = remembered.recall(entry, bytes)
    try:
        if rows is not None and _code_unchanged(rows, module):
            return rows
    except (ValueError, OSError):  # a damaged entry, a file gone: read the closure again
        pass
    from envlock.code_closure import closure_rows as read  # lazy: only a first run, an upgrade, an edit

    try:
        rows = read(module)
    except (OSError, ValueError, SyntaxError):  # unreadable now: envlock's every module names the code
        return None
    if rows is not None:
        remembered.remember(entry, rows)
    return rows


def _code_unchanged(rows: bytes, module: str) -> bool:
    """Every file and folder of ``rows`` (``code_closure.closure_rows``: ``rel\tmtime_ns\tsize`` a line)
    is as it was, and they name ``module``."""
    prefix = _package() + os.sep
    wanted = _module_file_name(module)
    named = False
    for row in rows.decode("utf-8").split("\n"):
        rel, tab, identity = row.partition("\t")
        info = os.stat(prefix + rel)  # (``rel`` is /-separated: Windows takes both)
        if not tab or f"{info.st_mtime_ns}\t{info.st_size}" != identity:
            return False
        named = named or rel in wanted
    return named


def _module_file_name(module: str) -> tuple[str, str]:
    """The two files ``module`` can be (``x.py``, ``x/__init__.py``), without looking at the disk."""
    rel = "/".join(module.split(".")[1:])
    return (f"{rel}.py", f"{rel}/__init__.py" if rel else "__init__.py")


class Memo:
    """The remembered answers of one kind (``kind``: their area's name) in the cache at ``root``.
    ``root`` None, ``ENVLOCK_NO_MEMO``, or a cache that is not trusted: every recall misses and nothing
    is remembered.

    ``code``: the module whose code computes these answers. Its keys (``Memo.key``) then name that code by
    its import closure (``code_digest``: the few dozen files that can change the answer, looked at one by
    one) instead of envlock's every module (``key``: a listing of every folder and a look at ~150 files)."""

    __slots__ = ("_area", "code", "kind", "root")

    def __init__(self, kind: str, root: str | os.PathLike[str] | None, *, code: str | None = None) -> None:
        self.kind = kind
        self.root = None if root is None else os.fspath(root)
        self.code = code
        self._area: str | None = None

    def key(self, *parts: object) -> str:
        """The key of an answer computed from ``parts`` by this memo's code: ``key``'s, with the code named
        by its closure when the memo names its module and the closure is at hand (its own memo, area
        ``code``, in this cache), else by envlock's every module."""
        digest = None if self.code is None else code_digest(self.code, Memo(CODE_AREA, self.root))
        return key(self.kind, *parts) if digest is None else _keyed(self.kind, digest, parts)

    def area(self, *, make: bool = False) -> str | None:
        """The area's folder when memos are on and the cache is trusted (made owner-only with ``make``),
        else None."""
        if self.root is None or memo_disabled():
            return None
        if self._area is not None:
            return self._area
        path = os.path.join(self.root, LAYOUT, self.kind)
        if distrusted(self.root) is not None:  # before making anything in it
            return None
        if make and not _make_private(self.root, os.path.dirname(path), path):
            return None
        if _folder_distrusted(path) is not None:
            return None
        if make or os.path.isdir(path):  # noqa: PTH112
            self._area = path
        return self._area

    def recall(self, key: str, decode: Callable[[bytes], T]) -> T | None:
        """What ``decode`` makes of the entry under ``key``; None for no entry, an untrusted cache, or any
        damage (an entry ``decode`` rejects with an exception included)."""
        area = self.area()
        if area is None:
            return None
        body = _read(os.path.join(area, key), key)
        if body is None:
            return None
        try:
            return decode(body)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OSError):
            return None

    def remember(self, key: str, body: bytes) -> None:
        """Store ``body`` under ``key`` owner-only and atomically; best effort (a cache that cannot be
        written costs the next run the computation, nothing else)."""
        area = self.area(make=True)
        if area is None:
            return
        from envlock.atomic import write_atomic  # lazy: only a miss writes

        header = b"\t".join((FORMAT, key.encode("ascii"), sha256_bytes(body).encode("ascii")))
        try:  # noqa: SIM105 - contextlib costs the check's start-up milliseconds
            write_atomic(os.path.join(area, key), header + b"\n" + body, durable=False, mode=0o600)
        except OSError:
            pass

    def through(
        self,
        key: str,
        compute: Callable[[], T],
        encode: Callable[[T], bytes | None],
        decode: Callable[[bytes], T],
    ) -> T:
        """The answer ``compute`` gives, remembered under ``key``: the entry's when there is a sound one,
        else ``compute()``'s, stored when ``encode`` gives bytes (None: not an answer to remember)."""
        found = self.recall(key, decode)
        if found is not None:
            return found
        answer = compute()
        body = encode(answer)
        if body is not None:
            self.remember(key, body)
        return answer


def _make_private(*folders: str) -> bool:
    """Make each folder (in order) owner-only where it is missing; False when one cannot be made."""
    for folder in folders:
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        except FileNotFoundError:  # the root's own parents: made as the user's umask says
            try:
                os.makedirs(folder, 0o700, exist_ok=True)  # noqa: PTH103
            except OSError:
                return False
        except OSError:
            return False
    return True


def _read(path: str, key: str) -> bytes | None:
    """The body of the entry at ``path`` when it is a regular file of sane size whose header names
    ``key`` and its body's sha256; None otherwise (never follows a link, never blocks on a FIFO)."""
    flags = (
        os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_ENTRY_BYTES:
            return None
        chunks = []
        size = 0
        while size <= MAX_ENTRY_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    header, newline, body = data.partition(b"\n")
    if not newline or len(data) > MAX_ENTRY_BYTES:
        return None
    fields = header.split(b"\t")
    if len(fields) != 3 or fields[0] != FORMAT or fields[1] != key.encode("ascii", "replace"):
        return None
    return body if fields[2] == sha256_bytes(body).encode("ascii") else None
