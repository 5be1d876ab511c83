"""Reads a pip-tools style hashed requirements file (every line ``name==version`` with ``--hash``) as a
lock: the file has no URLs, so each pinned file is looked up on the index by its hash and the result is
the PEP 751 lock (``packaging.pylock.Pylock``) a compile would have written for those files."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envlock.errors import LockFileError
from envlock.inputs.config import read_input_text
from envlock.inputs.requirements_syntax import logical_lines, split_option
from envlock.lock.lockfile import lock_from_dict
from envlock.lock.requirements_sources import SourcedPin, editable_pin, source_entry, url_pin
from envlock.models.source import is_source_url

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from envlock.index.pages import DistFile


@dataclass(frozen=True)
class PinnedRequirement:
    """One ``name==version ; marker --hash=sha256:...`` line."""

    name: str
    version: str
    marker: str | None
    sha256: frozenset[str]
    line: int


@dataclass(frozen=True)
class RequirementsLock:
    """What a hashed requirements file says: the pins and where to find them."""

    pins: tuple[PinnedRequirement, ...]
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    sources: tuple[SourcedPin, ...] = ()
    """Folders, local archives and git packages (``lock.requirements_sources``)."""


_HASH = re.compile(r"--hash[=\s]\s*(\S+)")

FileLookup = Callable[[RequirementsLock, str, str], Sequence["DistFile"]]
"""(file, name, version) -> the index's files of ``name==version`` (tests pass fakes)."""


def read(path: Path) -> str:
    """The text of a hashed requirements file, read as every input file is (``config.read_input_text``:
    a regular file of bounded size, else a RequirementsFileError naming it)."""
    return read_input_text(path, str(path))


def parse(path: Path, text: str) -> RequirementsLock:
    """Parse the file; every requirement must be pinned with ``==`` and carry ``--hash=sha256:``."""
    pins: list[PinnedRequirement] = []
    sources: list[SourcedPin] = []
    index_url: str | None = None
    extras: list[str] = []
    links: list[str] = []
    for number, logical in logical_lines(text):
        if logical.startswith("-") and not logical.startswith("--hash"):
            option, value = split_option(logical)
            if not value:
                raise LockFileError(f"{path}:{number}: {option} needs a value")
            if option in ("-i", "--index-url"):
                index_url = value
            elif option == "--extra-index-url":
                extras.append(value)
            elif option in ("-f", "--find-links"):
                links.append(value if "://" in value else str((path.parent / value).absolute()))
            elif option in ("-e", "--editable"):
                sources.append(editable_pin(value, path, number))
            elif option in ("-r", "-c", "--requirement", "--constraint"):
                raise LockFileError(f"{path}:{number}: {option} is not allowed in a hashed lock file")
            continue
        hashes = _HASH.findall(logical)
        spec = _HASH.sub("", logical).strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as error:
            raise LockFileError(f"{path}:{number}: invalid requirement: {error}") from None
        if requirement.url and is_source_url(requirement.url):
            sources.append(
                url_pin(requirement, frozenset(_sha256(h, path, number) for h in hashes), path, number)
            )
            continue
        pinned = [s for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version]
        if len(pinned) != 1 or len(requirement.specifier) != 1:
            raise LockFileError(
                f"{path}:{number}: not pinned with == and --hash ({requirement.name} has no single == pin)"
            )
        digests = frozenset(_sha256(h, path, number) for h in hashes)
        if not digests:
            raise LockFileError(
                f"{path}:{number}: not pinned with == and --hash ({requirement.name} has no --hash=sha256:)"
            )
        pins.append(
            PinnedRequirement(
                name=str(canonicalize_name(requirement.name)),
                version=pinned[0].version,
                marker=str(requirement.marker) if requirement.marker else None,
                sha256=digests,
                line=number,
            )
        )
    return RequirementsLock(tuple(pins), index_url, tuple(extras), tuple(links), tuple(sources))


def to_pylock(path: Path, parsed: RequirementsLock, lookup: FileLookup) -> Pylock:
    """The PEP 751 lock for the pinned files (looked up in parallel); a hash no index file has is an error."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda pin: lookup(parsed, pin.name, pin.version), parsed.pins))
    packages: list[dict[str, Any]] = []
    for pin, files in zip(parsed.pins, found, strict=True):
        matching = [f for f in files if f.sha256 in pin.sha256]
        if not matching:
            raise LockFileError(
                f"{path}:{pin.line}: no file of {pin.name}=={pin.version} on the index "
                "has any of the hashes listed",
                hint="regenerate the file (pip-compile --generate-hashes) or use a lock: envlock compile",
            )
        entry: dict[str, Any] = {"name": pin.name, "version": pin.version}
        if pin.marker:
            entry["marker"] = pin.marker
        index = next((f.index for f in matching if f.index), None)
        if index:
            entry["index"] = index
        wheels = sorted((f for f in matching if f.is_wheel), key=lambda f: f.filename)
        sdists = sorted((f for f in matching if not f.is_wheel), key=lambda f: f.filename)
        if wheels:
            entry["wheels"] = [_file_entry(f) for f in wheels]
        if sdists:
            entry["sdist"] = _file_entry(sdists[0])
        packages.append(entry)
    packages.extend(source_entry(pin, path.parent) for pin in parsed.sources)
    data = {"lock-version": "1.0", "created-by": f"envlock (from {path.name})", "packages": packages}
    return lock_from_dict(data, source=str(path))


def _file_entry(file: DistFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": file.filename, "url": file.url, "hashes": {"sha256": file.sha256}}
    if file.size is not None:
        entry["size"] = file.size
    return entry


_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def _sha256(value: str, path: Path, number: int) -> str:
    """The digest of ``sha256:<64 hex digits>`` (lowercased; pip writes lowercase, accepts either). The
    digest becomes a cache key and a file name later, so anything else is refused here, where it enters."""
    algorithm, _, digest = value.partition(":")
    if algorithm != "sha256" or not _SHA256_HEX.fullmatch(digest):
        raise LockFileError(
            f"{path}:{number}: only --hash=sha256:<64 hex digits> is supported, got {value[:80]!r}"
        )
    return digest.lower()
