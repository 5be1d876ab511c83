"""Scans a venv's installed distributions (``*.dist-info`` and legacy ``*.egg-info``): name, version,
INSTALLER, RECORD, ``direct_url.json``, envlock's artifact marker, and what makes one untrustworthy.

Reads only small metadata files by default; ``verify="sizes"`` also checks that every RECORD entry
exists with its recorded size (a ``stat`` each), ``verify=True`` hashes every entry too, which a sync
does after an interrupted one so a torn distribution is never trusted.
"""

from __future__ import annotations

import base64
import csv
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from envlock import runtime
from envlock.models.artifacts import InstalledDist
from envlock.runtime import sha256_file

ENVLOCK_MARKER = "envlock.json"
"""File envlock adds to each dist-info it installs: which artifact (sha256, filename) it came from."""
INSTALLER_NAME = "envlock"
NO_FILE_LIST = "no RECORD"
"""The problem of a distribution whose files are unknown (a dist-info without RECORD, an egg-info without
``installed-files.txt``): it cannot be uninstalled exactly, only replaced by rebuilding the venv."""
LEGACY_EGG_INFO = "installed as .egg-info (legacy)"

_NONE: Mapping[str, Mapping[str, Any]] = {}

Verify = Literal[False, True, "sizes"]
"""How much of each RECORD ``scan`` checks: nothing, sizes (``stat``), or sizes and sha256 (True)."""


@dataclass(frozen=True)
class RecordEntry:
    """One row of a RECORD file, with the path resolved against site-packages."""

    path: Path
    sha256: str | None
    """Hex digest, when the row has a sha256 hash."""
    size: int | None


def canonical_name(name: str) -> str:
    # The runtime's PEP 503 rule (the same as packaging's): the no-op sync reads installed markers
    # through this module and must not import packaging.
    return runtime.canonical_name(name)


def scan(
    site_dirs: Sequence[Path], *, verify: Verify = False, trusted: Mapping[str, Mapping[str, Any]] = _NONE
) -> tuple[InstalledDist, ...]:
    """Every dist-info and egg-info in ``site_dirs`` (purelib and platlib; duplicates ignored), sorted
    by name. The dist-info folders in ``trusted`` (absolute paths with the stamp's record of each:
    ``still_stamped``) are taken as the stamp recorded them, their files not checked, whatever ``verify``
    asks."""
    seen: set[Path] = set()
    found: list[InstalledDist] = []
    for site in site_dirs:
        key = Path(os.path.abspath(site))  # noqa: PTH100 - no symlink resolution needed, and it is faster
        if key in seen or not site.is_dir():
            continue
        seen.add(key)
        with os.scandir(site) as entries:
            for entry in entries:
                if entry.name.endswith(".dist-info") and entry.is_dir():
                    record = trusted.get(os.path.abspath(entry.path))  # noqa: PTH100
                    if record is not None:
                        found.append(read_vouched(Path(entry.path), record))
                    else:
                        found.append(read_dist(Path(entry.path), verify=verify))
                elif entry.name.endswith(".egg-info"):
                    found.append(read_egg_info(Path(entry.path)))
    return _flag_duplicates(found)


def still_stamped(vouched: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The dist-info folders the stamp vouches for (``noop.vouched``: their RECORD is the stamped file)
    whose METADATA and INSTALLER still say what the stamp recorded, read as the stamp reads them (the
    header lines, the first line): ``scan`` takes those as recorded. Any other is read as usual, so an
    edited or deleted METADATA is seen as before."""
    return {folder: record for folder, record in vouched.items() if _as_stamped(Path(folder), record)}


def read_vouched(dist_info: Path, record: Mapping[str, Any]) -> InstalledDist:
    """A dist-info ``still_stamped`` accepted: name, version and installer as the stamp recorded them, the
    artifact it came from read as usual, its files not checked."""
    direct_url = _read_json(dist_info / "direct_url.json")
    marker = _read_json(dist_info / ENVLOCK_MARKER)
    installer = record.get("installer")
    return InstalledDist(
        name=canonical_name(str(record["name"])),
        version=str(record["version"]),
        dist_info=dist_info,
        installer=installer if isinstance(installer, str) else None,
        artifact_sha256=_artifact_sha256(marker, direct_url),
        direct_url=direct_url,
    )


def _flag_duplicates(found: Iterable[InstalledDist]) -> tuple[InstalledDist, ...]:
    by_name: dict[str, list[InstalledDist]] = {}
    for dist in found:
        by_name.setdefault(dist.name, []).append(dist)
    result: list[InstalledDist] = []
    for name in sorted(by_name):
        group = sorted(by_name[name], key=lambda d: d.dist_info.name)
        if len(group) > 1:
            others = ", ".join(d.dist_info.name for d in group)
            group = [
                replace(d, problems=(*d.problems, f"several dist-info folders: {others}")) for d in group
            ]
        result.extend(group)
    return tuple(result)


def _as_stamped(dist_info: Path, record: Mapping[str, Any]) -> bool:
    """Name, version and installer are still the stamp's ``record`` of this dist-info."""
    if not (dist_info / "METADATA").is_file():
        return False
    folder = os.fspath(dist_info)
    name, version = runtime.dist_name_version(os.path.dirname(folder), os.path.basename(folder))  # noqa: PTH119, PTH120
    found = (name, version, runtime.read_installer(folder))
    return found == (record.get("name"), record.get("version"), record.get("installer"))


def read_dist(dist_info: Path, *, verify: Verify = False) -> InstalledDist:
    """Facts about one dist-info folder; problems are collected, never raised."""
    problems: list[str] = []
    folder_name, _, folder_version = dist_info.name[: -len(".dist-info")].partition("-")
    name, version = folder_name, folder_version
    metadata = _read_text(dist_info / "METADATA")
    if metadata is None:
        problems.append("no METADATA")
    else:
        headers = _metadata_headers(metadata)
        name = headers.get("name") or name
        version = headers.get("version") or version
    installer = _read_text(dist_info / "INSTALLER")
    direct_url = _read_json(dist_info / "direct_url.json")
    marker = _read_json(dist_info / ENVLOCK_MARKER)
    if not (dist_info / "RECORD").is_file():
        problems.append(NO_FILE_LIST)
    elif verify:
        problems.extend(verify_record(dist_info, hashes=verify is True))
    return InstalledDist(
        name=canonical_name(name),
        version=version,
        dist_info=dist_info,
        installer=installer.strip() if installer is not None else None,
        artifact_sha256=_artifact_sha256(marker, direct_url),
        direct_url=direct_url,
        problems=tuple(problems),
    )


def _artifact_sha256(marker: Mapping[str, Any] | None, direct_url: Mapping[str, Any] | None) -> str | None:
    """The sha256 of the artifact a distribution was installed from: envlock's marker, else PEP 610's
    ``archive_info.hashes``."""
    if marker is not None and isinstance(marker.get("sha256"), str):
        return str(marker["sha256"])
    if direct_url is not None:
        hashes = (direct_url.get("archive_info") or {}).get("hashes") or {}
        if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
            return str(hashes["sha256"])
    return None


def read_egg_info(egg_info: Path) -> InstalledDist:
    """A legacy ``*.egg-info`` (folder or single PKG-INFO file): always untrustworthy, so a sync replaces
    or removes it; its files are known only from pip's ``installed-files.txt``."""
    folder_name = egg_info.name[: -len(".egg-info")]
    name, _, version = folder_name.partition("-")
    text = _read_text(egg_info / "PKG-INFO") if egg_info.is_dir() else _read_text(egg_info)
    if text is not None:
        headers = _metadata_headers(text)
        name = headers.get("name") or name
        version = headers.get("version") or version.partition("-")[0]
    problems = [LEGACY_EGG_INFO]
    if not (egg_info / "installed-files.txt").is_file():
        problems.append(NO_FILE_LIST)
    installer = _read_text(egg_info / "INSTALLER") if egg_info.is_dir() else None
    return InstalledDist(
        name=canonical_name(name),
        version=version,
        dist_info=egg_info,
        installer=installer.strip() if installer is not None else None,
        problems=tuple(problems),
    )


def files_unknown(dist: InstalledDist) -> bool:
    """True when the files of ``dist`` cannot be listed (no RECORD / installed-files.txt)."""
    return NO_FILE_LIST in dist.problems


def record_entries(dist_info: Path) -> list[RecordEntry]:
    """RECORD rows of a dist-info, paths made absolute; empty when there is no RECORD. For an egg-info
    folder, the rows of ``installed-files.txt`` (paths relative to the folder, no hashes)."""
    if dist_info.name.endswith(".egg-info"):
        return _installed_files(dist_info)
    text = _read_text(dist_info / "RECORD")
    if text is None:
        return []
    site = str(dist_info.parent)
    entries: list[RecordEntry] = []
    for row in csv.reader(text.splitlines()):
        if not row or not row[0]:
            continue
        path = Path(os.path.normpath(os.path.join(site, row[0])))  # noqa: PTH118 - str joins: thousands of rows
        digest: str | None = None
        if len(row) > 1 and row[1].startswith("sha256="):
            encoded = row[1][len("sha256=") :]
            try:
                digest = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).hex()
            except ValueError:
                digest = "invalid"
        size = int(row[2]) if len(row) > 2 and row[2].isdigit() else None
        entries.append(RecordEntry(path, digest, size))
    return entries


def _installed_files(egg_info: Path) -> list[RecordEntry]:
    text = _read_text(egg_info / "installed-files.txt") if egg_info.is_dir() else None
    if text is None:
        return []
    return [
        RecordEntry(Path(os.path.normpath(egg_info / line.strip())), None, None)
        for line in text.splitlines()
        if line.strip()
    ]


def verify_record(dist_info: Path, *, hashes: bool = True) -> list[str]:
    """Problems with the files RECORD lists: missing, other size, other sha256 (only with ``hashes``),
    sorted, at most a few."""
    problems: list[str] = []
    for entry in record_entries(dist_info):
        try:
            stat = entry.path.stat()
        except OSError:
            problems.append(f"missing {entry.path.name}")
            continue
        wrong_size = entry.size is not None and stat.st_size != entry.size
        wrong_hash = hashes and entry.sha256 is not None and sha256_file(entry.path) != entry.sha256
        if wrong_size or wrong_hash:
            problems.append(f"changed {entry.path.name}")
    problems.sort()
    return problems[:5] + ([f"... {len(problems) - 5} more"] if len(problems) > 5 else [])


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    text = _read_text(path)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _metadata_headers(text: str) -> dict[str, str]:
    """``Name`` and ``Version`` from METADATA's header block (the first of each)."""
    fields = metadata_fields(text)
    return {key: fields[key][0] for key in ("name", "version") if key in fields}


def metadata_fields(text: str) -> dict[str, list[str]]:
    """Every field of a core-metadata header block (RFC 822 style: up to the first blank line, folded
    lines continued), by lower-cased name, values in order. The one METADATA header reader: a few
    fields are needed, so this is ~20x cheaper than the email parser."""
    fields: dict[str, list[str]] = {}
    key: str | None = None
    end = text.find("\n\n")  # the body (often a whole README) is never split into lines
    for line in (text if end < 0 else text[:end]).splitlines():
        if not line.strip():
            break
        if line[:1] in (" ", "\t") and key is not None:
            fields[key][-1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        key = name.strip().lower() if sep else None
        if key is not None:
            fields.setdefault(key, []).append(value.strip())
    return fields
