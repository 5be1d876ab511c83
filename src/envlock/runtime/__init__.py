# ruff: noqa: PTH100, PTH110, PTH112, PTH116, PTH118, PTH119, PTH120, PTH208
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""The launchers' runtime (standard library only, imports nothing of envlock outside this package). This
module owns its small base: the venv's ``.envlock/`` layout and the venv facts read without starting its
Python (the venv-python rule, pyvenv.cfg, the base interpreter); sha256 of text, bytes and files without
hashlib, and a file's stat identity; the installed distributions of a site-packages folder (PEP 503 names,
metadata folders, name, version, installer). One module, not three: every launch-time path (``envlock
check``, the no-op sync, the launchers) loads all of it, and each module costs that path its import.
Beside it: the lock header (``lock_header``) and the drift check with the entry-point guard (``drift``).
Launchers carry one file assembled from these modules (``guard.launchers.checker_source``).

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
    from typing import Any, TypeAlias

    StrPath: TypeAlias = "str | os.PathLike[str]"


# --- the venv's layout ---------------------------------------------------------------------------

STAMP_FORMAT = 1
"""Version of the stamp's JSON layout; a reader refuses (as drift) any other value."""

# The venv's state layout, owned here (the runtime every launcher carries) and imported by the rest.
STATE_DIR = ".envlock"
"""envlock's folder inside a venv (or a --system prefix)."""
STAMP_NAME = "stamp.json"
MARKER_NAME = "sync-in-progress"
LOCK_NAME = "lock"
"""The file lock two syncs of one venv take in turn."""
JOURNAL_NAME = "journal"
"""A sync's journal of every path it is about to write or stash (crash recovery)."""
STASH_NAME = "stash"
"""Files a sync moved aside, restored on rollback."""
TMP_NAME = "tmp"
"""Staging of dist-info folders before their rename into place."""
SYNC_LEFTOVERS = (JOURNAL_NAME, STASH_NAME, TMP_NAME)
"""What only a killed sync leaves in the state folder."""
SIBLING_MARK = ".envlock-"
"""Folders and files beside a venv (``.<venv>.envlock-new-*``, ``-old-*``, ``-swap.json``) carry this."""


def state_dir(venv: StrPath) -> str:
    """``<venv>/.envlock``: envlock's folder inside a venv."""
    return os.path.join(os.fspath(venv), STATE_DIR)


def stamp_path(venv: StrPath) -> str:
    return os.path.join(os.fspath(venv), STATE_DIR, STAMP_NAME)


def marker_path(venv: StrPath) -> str:
    return os.path.join(os.fspath(venv), STATE_DIR, MARKER_NAME)


def swap_journal_path(venv: StrPath) -> str:
    """``.<name>.envlock-swap.json`` beside the venv: a rebuild is swapping it (envlock.env.venvs)."""
    return os.path.join(os.path.dirname(os.path.abspath(venv)), sibling_prefix(venv) + "swap.json")


def venv_python(venv: StrPath) -> str:
    """The interpreter of a venv, by layout: ``Scripts/python.exe`` on Windows (or a Windows-layout venv
    elsewhere), else ``bin/python``. The one venv-python path rule."""
    root = os.fspath(venv)
    scripts = os.path.join(root, "Scripts")
    if os.name == "nt" or (os.path.isdir(scripts) and not os.path.isdir(os.path.join(root, "bin"))):
        return os.path.join(scripts, "python.exe")
    return os.path.join(root, "bin", "python")


def sibling_prefix(venv: StrPath) -> str:
    """``.<name>.envlock-``: the name prefix of everything a rebuild puts beside ``venv``."""
    return f".{os.path.basename(os.path.abspath(venv))}{SIBLING_MARK}"


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
    # a copied interpreter (Windows): the base interpreter is the one in `home` (only then is it read)
    home = read_pyvenv_cfg(venv).get("home") if inside else None
    if home:
        candidate = os.path.join(home, os.path.basename(os.fspath(python)))
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return resolved


# --- JSON -------------------------------------------------------------------------------------------


def json_loads(data: bytes) -> Any:
    """``json.loads`` through CPython's C scanner, without importing ``json`` (which imports ``re``:
    the largest cost of the launch path); the ``json`` module wherever that scanner is missing."""
    text = data.decode("utf-8")
    try:
        from _json import make_scanner  # type: ignore[import-not-found,unused-ignore]

        class _Context:
            strict = True
            object_hook = None
            object_pairs_hook = None
            parse_float = float
            parse_int = int
            memo: dict[str, str] = {}  # noqa: RUF012

            @staticmethod
            def parse_constant(name: str) -> float:
                return float(name.replace("Infinity", "inf"))

        start = len(text) - len(text.lstrip())
        value, end = make_scanner(_Context())(text, start)  # type: ignore[arg-type,unused-ignore]
    # SystemError: before 3.12 the scanner cannot raise its error until json.decoder is imported
    except (ImportError, TypeError, AttributeError, SystemError):  # not CPython's scanner, or no error type
        import json

        return json.loads(text)
    except StopIteration:
        raise ValueError("not a JSON document") from None
    if text[end:].strip():
        raise ValueError(f"extra data at character {end}")
    return value


# --- hashing ---------------------------------------------------------------------------------------

_CONSTRUCTOR: list[Any] = []
"""The sha256 constructor, looked up once per process: a failed import (``_sha2`` before Python 3.12)
searches every ``sys.path`` entry again each time it is tried."""


def _sha256() -> Any:
    """A sha256 object, from CPython's built-in module when there is one (hashlib loads OpenSSL:
    milliseconds on the launch path)."""
    if not _CONSTRUCTOR:
        try:  # the module that has it in this version: _sha2 from 3.12, _sha256 before
            if sys.version_info >= (3, 12):
                from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]
            else:
                from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:  # a Python built without it
            from hashlib import sha256
        _CONSTRUCTOR.append(sha256)
    return _CONSTRUCTOR[0]()


def sha256_text(text: str) -> str:
    """Hex sha256 of a text's UTF-8 bytes (without importing hashlib)."""
    return sha256_bytes(text.encode("utf-8"))


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data`` (without importing hashlib)."""
    digest = _sha256()
    digest.update(data)
    return str(digest.hexdigest())


def sha256_file(path: StrPath) -> str:
    """Hex sha256 of a file's bytes."""
    digest = _sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return str(digest.hexdigest())


def stat_identity(path: StrPath) -> dict[str, int] | None:
    """``{size, mtime_ns}`` of a file (None if absent): the cheap identity stamps record."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


# --- installed distributions -----------------------------------------------------------------------


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
