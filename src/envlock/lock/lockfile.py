"""The lock on disk: PEP 751 ``pylock.toml`` <-> ``packaging.pylock.Pylock``, validated on read,
written deterministically (stable key order, sorted packages) and atomically.

Writing uses a small emitter for the few TOML shapes a lock has, not tomlkit: same bytes for the same
lock, without tomlkit's import and per-node cost (figures: docs/benchmarks.md, "Why the fast paths exist").

The in-memory model *is* ``packaging.pylock``: its frozen dataclasses validate every field and
implement PEP 751 selection. envlock's own data lives under ``[tool.envlock]`` (see ``LockMetadata``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envlock.atomic import write_atomic
from envlock.errors import LockFileError
from envlock.lock import fields
from envlock.lock.fields import TOOL_KEY as TOOL_KEY
from envlock.tomlshim import tomllib

VIA_REQUIREMENTS = "via-requirements"
"""``[packages.tool.envlock]`` key beside ``via``: how each of them asks for the package
(``"a: b<2,>=1"``, ``"-r requirements.in: b>=1"``); ``lock.graph`` reads it back."""

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
    """Resolver options that shaped the lock (pre, only-binary, ...) and its effective indexes and
    targets, in words: for humans, ``--check``'s messages and export's index lines."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """``[tool.envlock.settings]``: the compile settings as data (``inputs.settings.CompileSettings``),
    which the staleness judge reads back; empty for a lock from an older envlock or another tool."""


def read_lock(path: Path) -> Pylock:
    """Read and validate a PEP 751 lock; every problem is a LockFileError naming file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockFileError(f"{path}: lock file not found", hint="run: envlock compile") from None
    except (OSError, UnicodeDecodeError) as error:
        raise LockFileError(f"{path}: cannot read lock file: {error}") from None
    return loads_lock(text, source=str(path))


def loads_lock(text: str, *, source: str) -> Pylock:
    """A lock's text (read from a file, or ``git show``) -> a validated Pylock; errors name ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LockFileError(f"{source}: not valid TOML: {error}") from None
    return lock_from_dict(data, source=source, text=text)


def lock_from_dict(data: Mapping[str, Any], *, source: str, text: str | None = None) -> Pylock:
    """``data`` (parsed from ``text``, when given: its strings are then checked from the text, faster)
    as a validated Pylock; every problem is a LockFileError naming ``source`` and the field."""
    if "lock-version" not in data:
        raise LockFileError(f"{source}: missing required field 'lock-version' (not a PEP 751 lock)")
    if text is None or not fields.plain_toml(text):
        fields.check_text(data, source)  # before packaging's messages quote a value
    try:
        lock = Pylock.from_dict(data)
    except PylockUnsupportedVersionError as error:
        raise LockFileError(f"{source}: unsupported lock-version: {error}") from None
    except PylockValidationError as error:
        raise LockFileError(f"{source}: invalid lock: {error}") from None
    fields.check_kinds(lock, source)
    return lock


def lock_metadata(lock: Pylock) -> LockMetadata:
    data = (lock.tool or {}).get(TOOL_KEY) or {}
    if not isinstance(data, Mapping):
        return LockMetadata()
    fingerprint = data.get("fingerprint")
    inputs = data.get("inputs") or ()
    options = data.get("options") or {}
    settings = data.get("settings") or {}
    return LockMetadata(
        fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        inputs=tuple(str(i) for i in inputs) if isinstance(inputs, Sequence) else (),
        options=options if isinstance(options, Mapping) else {},
        settings=settings if isinstance(settings, Mapping) else {},
    )


def metadata_to_tool(meta: LockMetadata) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if meta.fingerprint:
        table["fingerprint"] = meta.fingerprint
    if meta.inputs:
        table["inputs"] = list(meta.inputs)
    if meta.options:
        table["options"] = dict(sorted(meta.options.items()))
    if meta.settings:
        table["settings"] = dict(sorted(meta.settings.items()))
    return table


def dumps_lock(lock: Pylock) -> str:
    """Serialize deterministically: same Pylock -> same bytes. Packages sorted by name, version."""
    return dump_lock(lock).text


@dataclass(frozen=True)
class DumpedLock:
    """A lock as written (``dump_lock``), and what a TOML read of those bytes gives, short of reading them."""

    text: str
    read_back: dict[str, Any]
    """``tomllib.loads(text)`` for every top-level key but ``packages``, which holds the packages as
    emitted (one per ``[[packages]]``: their number is the read's). Read from the document's non-package
    lines alone: they are valid TOML by themselves, and they define those keys whole (a TOML table
    header names its full path, and a package's own tables are ``[packages.tool…]``)."""


def dump_lock(lock: Pylock) -> DumpedLock:
    """``dumps_lock``'s text, with what reading it back gives (``DumpedLock.read_back``): a compile that
    just wrote a lock judges it without parsing its packages again."""
    data = toml_data(lock)
    lines: list[str] = []
    outside: list[str] = []  # the lines of every top-level key but packages
    for key in _ordered(data, _TOP_ORDER):
        value = data[key]
        if key == "packages":
            if not value:  # PEP 751 requires the key: an empty lock (no requirements) says so
                lines.append("packages = []")
            for package in sorted(value, key=lambda p: (p["name"], str(p.get("version", "")))):
                lines += ["", "[[packages]]"]
                lines += _package_lines(package)
        elif key == "tool":
            lines += _table_lines(("tool",), value)
            outside += _table_lines(("tool",), value)
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
            outside.append(lines[-1])
    read_back = dict(tomllib.loads("\n".join(outside)))
    read_back["packages"] = list(data["packages"])
    return DumpedLock("\n".join(lines) + "\n", read_back)


def toml_data(lock: Pylock) -> dict[str, Any]:
    """``lock.to_dict()`` (PEP 751's keys, None fields left out, versions, markers and specifiers as text)
    without ``dataclasses.asdict``'s deep copy of every value (a fifth of writing a 500-package lock): the
    emitter only reads it. The values are the lock's own, not copies."""
    return _toml_data(lock)  # type: ignore[no-any-return]


_LEAVES = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...] | None] = {}
"""A class's dataclass field names (None: not a dataclass), by class: ``dataclasses.fields`` and
``is_dataclass`` per value were a fifth of the walk."""


def _toml_data(value: Any) -> Any:
    """What ``dataclasses.asdict(value, dict_factory=packaging.pylock._toml_dict_factory)`` gives, by the
    same rules (``_field_value``), without copying the leaves."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind in _FIELDS:
        names = _FIELDS[kind]
    else:
        is_dataclass = dataclasses.is_dataclass(kind)
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind)) if is_dataclass else None
    if names is not None:
        table = {}
        for name in names:
            inner = _toml_data(getattr(value, name))
            if inner is not None:
                table[name.replace("_", "-")] = _field_value(name, inner)
        return table
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*[_toml_data(v) for v in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_toml_data(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_toml_data(k), _toml_data(v)) for k, v in value.items())
    return value


def _field_value(name: str, value: Any) -> Any:
    """A dataclass field's value in PEP 751 form (packaging.pylock's ``_toml_value``)."""
    if isinstance(value, (Version, Marker, SpecifierSet)):
        return str(value)
    if name == "environments" and isinstance(value, Sequence):  # the name first: an ABC check is slow
        return [str(v) for v in value]
    return value


def write_lock(path: Path, lock: Pylock) -> None:
    """Write atomically: readers see the old lock or the new one, never half of one."""
    write_text_atomic(path, dumps_lock(lock))


def write_text_atomic(path: Path, text: str) -> None:
    """``text`` (UTF-8, ``\n`` line ends) to ``path`` through the one atomic writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))


def _ordered(data: Mapping[str, Any], order: Sequence[str]) -> list[str]:
    known = [k for k in order if k in data]
    return known + sorted(k for k in data if k not in order)


def _package_lines(package: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    tool: Mapping[str, Any] | None = None
    for key in _ordered(package, _PACKAGE_ORDER):
        value = package[key]
        if key == "wheels":
            wheels = sorted(value, key=lambda w: str(w.get("name") or w.get("url") or ""))
            lines.append(f"wheels = {_multiline(_file_inline(w) for w in wheels)}")
        elif key in ("sdist", "archive", "vcs", "directory"):
            lines.append(f"{key} = {_file_inline(value)}")
        elif key == "dependencies":
            deps = [_value(d) for d in sorted(value, key=lambda d: sorted(d.items()))]
            rendered = _multiline(deps) if len(deps) > 1 else f"[{', '.join(deps)}]"
            lines.append(f"dependencies = {rendered}")
        elif key == "tool":
            tool = value
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    if tool:
        lines += _table_lines(("packages", "tool"), tool)
    return lines


def _table_lines(path: tuple[str, ...], mapping: Mapping[str, Any]) -> list[str]:
    """``[a.b]`` tables: a table's own values first, then its sub-tables, each sorted by key."""
    scalars = [k for k in sorted(mapping) if not isinstance(mapping[k], Mapping)]
    tables = [k for k in sorted(mapping) if isinstance(mapping[k], Mapping)]
    lines: list[str] = []
    if scalars:
        lines += ["", f"[{'.'.join(_key(p) for p in path)}]"]
        lines += [f"{_key(k)} = {_value(mapping[k])}" for k in scalars]
    for key in tables:
        lines += _table_lines((*path, key), mapping[key])
    return lines


def _multiline(items: Iterable[str]) -> str:
    return "[\n" + "".join(f"    {item},\n" for item in items) + "]"


def _file_inline(entry: Mapping[str, Any]) -> str:
    """A file entry keeps PEP 751's reading order (name, upload-time, url, path, size, hashes)."""
    parts = [f"{_key(k)} = {_value(entry[k])}" for k in _ordered(entry, _FILE_ORDER)]
    return "{" + ", ".join(parts) + "}"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, but JSON leaves DEL raw (TOML requires it escaped)
    and, with ensure_ascii, writes characters beyond the BMP as surrogate pairs (TOML refuses those)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # nothing to escape (no control character, DEL, quote or backslash): as JSON's
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    """TOML for the value types a lock holds (all that TOML itself can hold, so a lock read with its
    ``[tool]`` tables can be written back)."""
    if type(value) is str:  # the most common value first
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:  # a TOML local date-time stays one (converting would depend on this machine)
            return value.isoformat()
        try:
            # PEP 751: upload-time is an offset datetime in UTC.
            return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC form; its own is valid TOML
            return value.isoformat()
    if isinstance(value, (date, time)):  # TOML local date, local time
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a lock")
