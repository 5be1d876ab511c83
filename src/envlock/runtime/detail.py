# ruff: noqa: PTH118
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""What a drift consists of, looked at only once the check (``drift``) has found one: what a changed lock
has that the synced venv has not, the projects an edited requirements file names that are not installed,
every file of a distribution against its RECORD (``--deep``) and the note of an interrupted sync. Apart
from ``drift`` so that a clean check, which never needs them, does not load them (standard library only:
part of the launchers' runtime, which carries it in its one file)."""

from __future__ import annotations

import os

from envlock.runtime import canonical_name, json_loads, marker_path
from envlock.runtime.drift import FILE_MISSING, FILE_MODIFIED

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing (import time)
    from typing import Any

    from envlock.runtime.drift import _Context


def marker_note(venv: str) -> str:
    try:
        with open(marker_path(venv), "rb") as handle:
            marker = json_loads(handle.read())
        return " (started %s by process %s)" % (marker["started"], marker["pid"])  # noqa: UP031
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _names(entries: list[str], limit: int = 8) -> str:
    shown = ", ".join(entries[:limit])
    return shown + (f" and {len(entries) - limit} more" if len(entries) > limit else "")


def lock_changes(lock: str, stamp: dict[str, Any]) -> str:
    """What a changed lock has that the synced venv has not, e.g. ``missing: fastapi 0.115.0; no longer
    locked: requests 2.32.0; changed: tinyweb 1.0 -> 2.0`` (empty when unknown).

    Read by the lock header reader (``lock_header``, the drift path only): a lock it cannot read (no TOML;
    on Python < 3.11 without tomli, one its scan declines) gives the plain message. Packages with a
    marker are named as missing only when installed in another version: without a marker evaluator the
    check cannot tell whether they apply to this venv.
    """
    # the drift path only: a clean check never loads the reader (in a launcher's one file it is above)
    from envlock.runtime.lock_header import LockHeaderError, read_header

    try:
        with open(lock, "rb") as handle:
            header = read_header(handle.read())
    except (OSError, LockHeaderError):
        return ""
    locked: dict[str, list[str]] = {}
    conditional: set[str] = set()
    for entry in header.packages:
        name = canonical_name(entry.name)
        locked.setdefault(name, []).append(entry.version or "")
        if entry.marker:
            conditional.add(name)
    installed = {d["name"]: d["version"] for d in stamp["distributions"]}
    missing = [
        f"{name} {' / '.join(sorted(set(versions)))}".strip()
        for name, versions in sorted(locked.items())
        if name not in installed and name not in conditional
    ]
    extra = [f"{name} {version}" for name, version in sorted(installed.items()) if name not in locked]
    changed = [
        f"{name} {installed[name]} -> {' / '.join(sorted(set(locked[name])))}"
        for name in sorted(set(locked) & set(installed))
        if installed[name] not in locked[name] and "" not in locked[name]
    ]
    parts = [
        f"{label}: {_names(entries)}"
        for label, entries in (("missing", missing), ("no longer locked", extra), ("changed", changed))
        if entries
    ]
    return "; ".join(parts)


def required_but_not_installed(path: str, stamp: dict[str, Any]) -> list[str]:
    """Project names a requirements file lists that the stamp does not have (the drift path only)."""
    if not path.endswith((".in", ".txt")):
        return []
    installed = {d["name"] for d in stamp["distributions"]}
    names = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    for line in lines:
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")) or "://" in line:
            continue
        end = 0
        while end < len(line) and (line[end].isalnum() or line[end] in "._-"):
            end += 1
        if end:
            names.add(canonical_name(line[:end]))
    return sorted(names - installed)


def verify_record(ctx: _Context, site: str, dist: dict[str, Any]) -> None:
    """--deep: every file a distribution's RECORD lists with a hash, hashed and compared.

    The fix is ``sync --verify``: a plain sync trusts the stamp and would not look inside a distribution.
    """
    fix = f"{ctx.sync} --verify"
    import base64
    import csv
    import hashlib

    record_file = os.path.join(site, dist["dir"], "RECORD")
    try:
        with open(record_file, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        ctx.add(
            FILE_MODIFIED,
            f"{dist['name']}:RECORD",
            f"{dist['name']} {dist['version']}: RECORD unreadable ({error})",
            fix,
        )
        return
    label = f"{dist['name']} {dist['version']}"
    venv = os.path.realpath(ctx.venv)
    for row in sorted(rows):
        if not row or not row[0]:
            continue
        relative = row[0]
        path = os.path.normpath(os.path.join(site, relative))
        real = os.path.realpath(path)
        if real != venv and not real.startswith(venv.rstrip(os.sep) + os.sep):
            # A RECORD row outside the venv: an uninstall would leave it, or a hostile package
            # claims a file of the machine. Never trusted, never hashed in place.
            ctx.add(
                FILE_MODIFIED,
                f"{dist['name']}:{relative}",
                f"{label}: RECORD lists {relative}, outside the environment",
                fix,
            )
            continue
        if len(row) < 2 or not row[1] or "=" not in row[1]:
            continue
        hash_spec = row[1]
        algorithm, _, expected = hash_spec.partition("=")
        try:
            digest = hashlib.new(algorithm)
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            ctx.add(FILE_MISSING, f"{dist['name']}:{relative}", f"{label}: {relative} is missing", fix)
            continue
        except (OSError, ValueError):  # unreadable, or an unknown hash algorithm
            ctx.add(
                FILE_MODIFIED, f"{dist['name']}:{relative}", f"{label}: {relative} cannot be verified", fix
            )
            continue
        actual = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")
        if actual != expected.rstrip("="):
            ctx.add(FILE_MODIFIED, f"{dist['name']}:{relative}", f"{label}: {relative} was modified", fix)
