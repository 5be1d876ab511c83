# ruff: noqa: PTH110, PTH118, PTH208
# (os.path on purpose: plain str paths, no pathlib objects per dist-info)
"""The no-op fast path of ``envlock sync``: does the venv's stamp prove that it already is exactly these
lock bytes? Standard library, ``stamp`` and the lock header (``runtime.lock_header``, read only for a lock
that may name default groups or a project folder) only: no dataclasses, no subprocess, no lock model, so
the sync command can answer before it imports the rest of sync."""

from __future__ import annotations

import os

from envlock import runtime
from envlock.cache_dir import memo_disabled
from envlock.runtime import lock_header

TYPE_CHECKING = False
if TYPE_CHECKING:  # the no-op answer imports no pathlib or typing machinery: milliseconds each
    from collections.abc import Iterable
    from pathlib import Path


def up_to_date(
    venv: str | Path,
    lock_sha: str,
    lock_bytes: bytes,
    *,
    extras: Iterable[str] = (),
    groups: Iterable[str] | None = None,
    lock_path: str | Path | None = None,
) -> bool:
    """A stamp for this lock (its sha256), these extras and groups (None: the lock's default groups), an
    interpreter that is still the same file, and the same dist-info folders with unchanged RECORD
    files; no sync in progress and nothing a killed rebuild left beside the venv. A few ``stat`` calls
    and one directory listing per site-packages."""
    venv_str = os.path.abspath(venv)  # noqa: PTH100
    if memo_disabled() or os.path.exists(runtime.marker_path(venv_str)) or _leftovers_beside(venv_str):
        return False
    try:
        with open(runtime.stamp_path(venv_str), "rb") as handle:
            data = runtime.json_loads(handle.read())  # json (and re) cost this answer milliseconds
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("format") != runtime.STAMP_FORMAT:
        return False
    if (data.get("lock") or {}).get("sha256") != lock_sha:
        return False
    if data.get("extras") != normalized(extras):
        return False
    header = _Header(lock_bytes)
    if data.get("groups") != effective_groups(groups, header):
        return False
    if lock_path is not None and _inputs_moved(lock_path, data.get("inputs") or ()):
        return False
    interpreter = data.get("interpreter") or {}
    python = runtime.venv_python(venv_str)
    if not os.path.exists(python):
        return False
    base = runtime.base_interpreter(venv_str, python)
    if base != interpreter.get("resolved") or runtime.stat_identity(base) != interpreter.get("stat"):
        return False
    sites = data.get("site_packages")
    if not isinstance(sites, list):
        return False
    found = []
    for index, rel in enumerate(sites):
        site = os.path.join(venv_str, rel)
        for dirname in runtime.metadata_dir_names(site):
            found.append((dirname, index, runtime.stat_identity(os.path.join(site, dirname, "RECORD"))))
    recorded = [(d.get("dir"), d.get("site"), d.get("record")) for d in data.get("distributions") or ()]
    if sorted(found, key=repr) != sorted(recorded, key=repr):
        return False
    folders = [os.path.join(venv_str, sites[index], dirname) for dirname, index, _record in found]
    return _folders_unchanged(header, lock_path, folders)


class _Header:
    """The lock's header (``runtime.lock_header``), read on first use and only when the bytes may name
    what is asked of it (most locks name neither default groups nor project folders)."""

    def __init__(self, lock_bytes: bytes) -> None:
        self.lock_bytes = lock_bytes
        self._read: lock_header.LockHeader | None = None

    def may_name(self, key: str) -> bool:
        return lock_header.mentions(self.lock_bytes, key)

    def read(self) -> lock_header.LockHeader:
        """The header; LockHeaderError for bytes that are no TOML (a stamp of them cannot be valid)."""
        if self._read is None:
            self._read = lock_header.read_header(self.lock_bytes)
        return self._read


def _folders_unchanged(header: _Header, lock_path: str | Path | None, dist_infos: list[str]) -> bool:
    """Every plain (not editable) project folder of the lock still has the contents its installed copy
    was built from: their digest is the artifact sha256 in that copy's ``envlock.json``. A changed
    folder takes the full sync, which reinstalls it (docs/sync.md). An editable folder's identity is its
    build configuration, which the lock records as inputs (``_inputs_moved`` sees an edit)."""
    if not header.may_name("directory"):
        return True
    try:
        entries = [entry for entry in header.read().packages if entry.source == "directory"]
    except lock_header.LockHeaderError:
        return False
    plain = [entry.directory for entry in entries if not entry.editable]
    if any(entry.directory is None for entry in entries) or (entries and lock_path is None):
        return False
    if not plain:
        return True
    assert lock_path is not None
    # lazy: only locks with plain project folders hash them on the no-op path
    from pathlib import Path

    from envlock.env.site_packages import ENVLOCK_MARKER
    from envlock.sources.tree import content_digest

    installed = set()
    for folder in dist_infos:
        try:
            with open(os.path.join(folder, ENVLOCK_MARKER), "rb") as handle:
                installed.add(runtime.json_loads(handle.read()).get("sha256"))
        except (OSError, ValueError, AttributeError):
            continue
    lock_dir = os.path.dirname(os.path.abspath(lock_path))  # noqa: PTH100, PTH120
    try:
        return all(content_digest(Path(lock_dir, str(path))) in installed for path in plain)
    except (OSError, ValueError):  # a folder gone or unreadable: the full sync says what is wrong
        return False


def vouched(venv: Path) -> dict[str, dict[str, object]]:
    """The dist-info folders (absolute paths) whose RECORD is still the file the last sync stamped (its
    stat identity), each with the stamp's record of it (``name``, ``version``, ``installer``, ``record``):
    a patch trusts their files as the no-op does (``check --deep`` and ``sync --verify`` look inside),
    and the new stamp keeps their records. Empty without a valid stamp or while a sync is marked in
    progress."""
    venv_str = os.path.abspath(venv)  # noqa: PTH100
    if memo_disabled() or os.path.exists(runtime.marker_path(venv_str)):
        return {}
    from envlock.runtime import drift  # lazy: the sync engine's, not the no-op answer's

    try:
        data = drift.read_stamp(venv_str) or {}
        sites = [os.path.join(venv_str, rel) for rel in data.get("site_packages") or ()]
        found = {}
        for dist in data.get("distributions") or ():
            folder = os.path.join(sites[dist["site"]], dist["dir"])
            if not (isinstance(dist["name"], str) and isinstance(dist["version"], str)):
                continue
            if not isinstance(dist.get("installer"), (str, type(None))):
                continue
            record = dist["record"]
            if record is not None and runtime.stat_identity(os.path.join(folder, "RECORD")) == record:
                found[folder] = dict(dist)
    except (OSError, ValueError, TypeError, KeyError, IndexError):  # a damaged stamp vouches for nothing
        return {}
    return found


def _inputs_moved(lock_path: str | Path, records: Iterable[dict[str, object]]) -> bool:
    """Any lock input whose size or mtime differs from the stamp's record (one ``stat`` each): then the
    full sync runs and re-stamps with a fresh verdict on the lock, so a compile-neutral edit (a comment)
    stops tripping the launch check, and an edit the lock does not reflect is recorded as stale."""
    lock_dir = os.path.dirname(os.path.abspath(lock_path))  # noqa: PTH100, PTH120
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("path"), str):
            return True
        now = runtime.stat_identity(os.path.join(lock_dir, str(record["path"])))
        if now is None:
            if "sha256" in record:
                return True
            continue
        if any(record.get(key) != value for key, value in now.items()):
            return True
    return False


def normalized(values: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated PEP 503 names (``selection.declared`` without importing packaging)."""
    return sorted({runtime.canonical_name(value) for value in values})


def effective_groups(groups: Iterable[str] | None, header: _Header) -> list[str] | None:
    """The dependency groups a sync installs: ``--group`` values, else the lock's ``default-groups``;
    None when the lock cannot be read (no stamp then matches)."""
    if groups is not None:
        return normalized(groups)
    if not header.may_name("default-groups"):
        return []
    try:
        return normalized(header.read().default_groups)
    except lock_header.LockHeaderError:
        return None


def _leftovers_beside(venv: str) -> bool:
    """A killed rebuild's staging/old venv or swap journal beside ``venv`` (one directory listing)."""
    parent = os.path.dirname(venv)  # noqa: PTH120 - the no-op path stays on plain strings
    prefix = runtime.sibling_prefix(venv)
    try:
        return any(entry.startswith(prefix) for entry in os.listdir(parent))
    except OSError:
        return False
