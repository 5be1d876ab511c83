"""Turns a pip-tools hashed requirements file into a PEP 751 lock (``envlock import``): the pins and index
options are read by ``envlock.lock.requirements_lock``, each pinned file is looked up on the index by its
hash, and pip-compile's ``# via`` annotations become ``[packages.tool.envlock] via``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envlock.errors import LockFileError
from envlock.inputs.requirements_syntax import physical_lines
from envlock.lock import requirements_lock
from envlock.lock.lockfile import TOOL_KEY, lock_from_dict
from envlock.lock.requirements_lock import FileLookup, RequirementsLock
from envlock.validate import strip_credentials

if TYPE_CHECKING:
    from packaging.pylock import Pylock

CREATED_BY = "envlock"
_HINT = "regenerate it with: pip-compile --generate-hashes (every line name==version with --hash)"
_VIA_ENTRY = re.compile(r"^(?:-[rc]\s+)?(.+?)\s*(?:\(.*\))?$")


def parse(path: Path, text: str) -> RequirementsLock:
    """The pins and index options; an unpinned or unhashed line is a LockFileError naming file:line."""
    try:
        return requirements_lock.parse(path, text)
    except LockFileError as error:
        raise LockFileError(error.message, hint=error.hint or _HINT) from None


def import_requirements(
    path: Path, text: str, lookup: FileLookup, *, indexes: Sequence[str] | None = None
) -> Pylock:
    """The lock for a pip-tools hashed file. Every ``--hash`` must match a file of that version on the
    index (else a LockFileError naming the line); ``lookup`` is the index (tests pass fakes).
    ``indexes``: the index URLs the lookup used, recorded in ``[tool.envlock.options]`` (default: the
    file's own ``--index-url`` / ``--extra-index-url``)."""
    parsed = parse(path, text)
    lock = requirements_lock.to_pylock(path, parsed, lookup)
    via = via_annotations(text)
    data = dict(lock.to_dict())
    packages: list[dict[str, Any]] = []
    indexed = data["packages"][: len(parsed.pins)]
    for pin, package in zip(parsed.pins, indexed, strict=True):
        found = _hashes_of(package)
        unmatched = sorted(pin.sha256 - found)
        if unmatched:
            raise LockFileError(
                f"{path}:{pin.line}: --hash=sha256:{unmatched[0]} matches no file of "
                f"{pin.name}=={pin.version} on the index",
                hint="regenerate the file (pip-compile --generate-hashes), or check --index-url",
            )
        entry = dict(package)
        if via.get(pin.line):
            entry["tool"] = {TOOL_KEY: {"via": sorted(set(via[pin.line]))}}
        packages.append(entry)
    packages.extend(data["packages"][len(parsed.pins) :])  # folders and git packages, as they were read
    if indexes is None:
        indexes = [i for i in (parsed.index_url, *parsed.extra_index_urls) if i]
    options: dict[str, Any] = {"imported-from": path.name}
    if indexes:
        options["indexes"] = list(dict.fromkeys(strip_credentials(i) for i in indexes))
    data["created-by"] = CREATED_BY
    data["packages"] = packages
    data["tool"] = {TOOL_KEY: {"options": options}}
    return lock_from_dict(data, source=str(path))


def _hashes_of(package: Mapping[str, Any]) -> set[str]:
    files = [*(package.get("wheels") or ()), *([package["sdist"]] if package.get("sdist") else [])]
    return {str(f["hashes"]["sha256"]).lower() for f in files if "sha256" in f.get("hashes", {})}


def via_annotations(text: str) -> dict[int, list[str]]:
    """pip-compile's annotations, by the first line number of the requirement they follow:
    ``# via app`` (one line) or ``# via`` then ``#   app`` lines; ``-r requirements.in`` becomes
    ``requirements.in`` (the form ``envlock compile`` records)."""
    found: dict[int, list[str]] = {}
    current: int | None = None
    in_via = False
    continued = False
    for line in physical_lines(text):
        if not line.code and line.comment is not None:
            comment = line.comment.lstrip("#").strip()
            if current is None:
                continue
            if comment == "via":
                in_via = True
            elif comment.startswith("via "):
                found.setdefault(current, []).append(_via_entry(comment[4:]))
                in_via = False
            elif in_via and line.comment.startswith("   ") and comment:  # "#   app": an item of "# via"
                found.setdefault(current, []).append(_via_entry(comment))
            else:
                in_via = False
            continue
        if not line.code:
            in_via = False
            if not continued:
                current = None
            continue
        if not continued:
            in_via = False
            stripped = line.code.lstrip()
            current = None if stripped.startswith("-") and not stripped.startswith("--hash") else line.number
        continued = line.continues
    return found


def _via_entry(text: str) -> str:
    match = _VIA_ENTRY.match(text.strip())
    return match.group(1) if match else text.strip()
