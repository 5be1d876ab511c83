"""The lock on disk: PEP 751 ``pylock.toml`` <-> ``packaging.pylock.Pylock``, validated on read,
written deterministically (stable key order, sorted packages) and atomically.

The in-memory model *is* ``packaging.pylock``: its frozen dataclasses validate every field and
implement PEP 751 selection. envlock's own data lives under ``[tool.envlock]`` (see ``LockMetadata``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

from envlock.errors import LockFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOOL_KEY = "envlock"

# Key order inside tables: what a human reads first comes first (PEP 751 lists them in this order).
_TOP_ORDER = (
    "lock-version",
    "environments",
    "requires-python",
    "extras",
    "dependency-groups",
    "default-groups",
    "created-by",
    "packages",
    "tool",
)
_PACKAGE_ORDER = (
    "name",
    "version",
    "marker",
    "requires-python",
    "dependencies",
    "index",
    "vcs",
    "directory",
    "archive",
    "sdist",
    "wheels",
    "attestation-identities",
    "tool",
)
_FILE_ORDER = ("name", "upload-time", "url", "path", "size", "hashes")


@dataclass(frozen=True)
class LockMetadata:
    """envlock's data under ``[tool.envlock]`` of a lock."""

    fingerprint: str | None = None
    """sha256 of the normalized inputs (requirements, constraints, index settings, target)."""
    inputs: tuple[str, ...] = ()
    """The input files, relative to the lock's folder, in the order given."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Resolver options that shaped the lock (pre, only-binary, ...), for humans and --check."""


def read_lock(path: Path) -> Pylock:
    """Read and validate a PEP 751 lock; every problem is a LockFileError naming file and field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockFileError(f"{path}: lock file not found", hint="run: envlock compile") from None
    except (OSError, UnicodeDecodeError) as error:
        raise LockFileError(f"{path}: cannot read lock file: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise LockFileError(f"{path}: not valid TOML: {error}") from None
    return lock_from_dict(data, source=str(path))


def lock_from_dict(data: Mapping[str, Any], *, source: str) -> Pylock:
    if "lock-version" not in data:
        raise LockFileError(f"{source}: missing required field 'lock-version' (not a PEP 751 lock)")
    try:
        return Pylock.from_dict(data)
    except PylockUnsupportedVersionError as error:
        raise LockFileError(f"{source}: unsupported lock-version: {error}") from None
    except PylockValidationError as error:
        raise LockFileError(f"{source}: invalid lock: {error}") from None


def lock_metadata(lock: Pylock) -> LockMetadata:
    data = (lock.tool or {}).get(TOOL_KEY) or {}
    if not isinstance(data, Mapping):
        return LockMetadata()
    fingerprint = data.get("fingerprint")
    inputs = data.get("inputs") or ()
    options = data.get("options") or {}
    return LockMetadata(
        fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        inputs=tuple(str(i) for i in inputs) if isinstance(inputs, Sequence) else (),
        options=options if isinstance(options, Mapping) else {},
    )


def metadata_to_tool(meta: LockMetadata) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if meta.fingerprint:
        table["fingerprint"] = meta.fingerprint
    if meta.inputs:
        table["inputs"] = list(meta.inputs)
    if meta.options:
        table["options"] = dict(sorted(meta.options.items()))
    return table


def dumps_lock(lock: Pylock) -> str:
    """Serialize deterministically: same Pylock -> same bytes. Packages sorted by name, version."""
    import tomlkit

    data = dict(lock.to_dict())
    doc = tomlkit.document()
    for key in _ordered(data, _TOP_ORDER):
        value = data[key]
        if key == "packages":
            packages = sorted(value, key=lambda p: (p["name"], str(p.get("version", ""))))
            aot = tomlkit.aot()
            for package in packages:
                aot.append(_package_table(package))
            doc.add(key, aot)
        elif key == "tool":
            doc.add(key, _plain_table(value))
        else:
            doc.add(key, _value(value))
    text = tomlkit.dumps(doc)
    return text if text.endswith("\n") else text + "\n"


def write_lock(path: Path, lock: Pylock) -> None:
    """Write atomically: readers see the old lock or the new one, never half of one."""
    write_text_atomic(path, dumps_lock(lock))


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ordered(data: Mapping[str, Any], order: Sequence[str]) -> list[str]:
    known = [k for k in order if k in data]
    return known + sorted(k for k in data if k not in order)


def _package_table(package: Mapping[str, Any]) -> Any:
    import tomlkit

    table = tomlkit.table()
    for key in _ordered(package, _PACKAGE_ORDER):
        value = package[key]
        if key == "wheels":
            array = tomlkit.array()
            for wheel in sorted(value, key=lambda w: str(w.get("name") or w.get("url") or "")):
                array.append(_file_inline(wheel))
            array.multiline(True)
            table.add(key, array)
        elif key in ("sdist", "archive", "vcs", "directory"):
            table.add(key, _file_inline(value))
        elif key == "dependencies":
            array = tomlkit.array()
            for dep in sorted(value, key=lambda d: sorted(d.items())):
                array.append(_inline(dep))
            array.multiline(len(value) > 1)
            table.add(key, array)
        elif key == "tool":
            table.add(key, _plain_table(value))
        else:
            table.add(key, _value(value))
    return table


def _file_inline(entry: Mapping[str, Any]) -> Any:
    import tomlkit

    inline = tomlkit.inline_table()
    for key in _ordered(entry, _FILE_ORDER):
        value = entry[key]
        inline.append(key, _inline(value) if isinstance(value, Mapping) else _value(value))
    return inline


def _inline(mapping: Mapping[str, Any]) -> Any:
    import tomlkit

    inline = tomlkit.inline_table()
    for key in sorted(mapping):
        inline.append(key, _value(mapping[key]))
    return inline


def _plain_table(mapping: Mapping[str, Any]) -> Any:
    import tomlkit

    table = tomlkit.table()
    for key in sorted(mapping):
        value = mapping[key]
        table.add(key, _plain_table(value) if isinstance(value, Mapping) else _value(value))
    return table


def _value(value: Any) -> Any:
    import tomlkit

    if isinstance(value, datetime):
        # PEP 751: upload-time is a UTC offset datetime; keep second precision stable.
        return value.astimezone(timezone.utc)
    if isinstance(value, (list, tuple)):
        array = tomlkit.array()
        for item in value:
            array.append(_inline(item) if isinstance(item, Mapping) else _value(item))
        return array
    if isinstance(value, Mapping):
        return _inline(value)
    return value
