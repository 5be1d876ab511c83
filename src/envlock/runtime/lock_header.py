"""The lock header: what the fast paths read of a pylock.toml without the lock model (its sha256, the
recorded input fingerprint, inputs and settings, ``default-groups``, each package's name, version,
marker and source kind, its project folder), read as TOML. Standard library only: part of the launch
runtime, which launchers carry.

``read_header`` first scans the lines the way envlock writes a lock (header tables parsed, package
entries' ``name``/``version``/``marker``/source keys parsed, wheel and dependency lines only bracket-
counted); any line outside that shape (a multi-line string, a quoted or dotted key, an indented
statement, a float or date in a value it needs, a lone CR...) makes it decline, and the whole
document is then parsed with ``tomllib`` (``tomli`` before Python 3.11). Both roads end in one
extraction (``_header_from``), so they give the same answer; the full read of a lock, with its
validation, is ``envlock.lock.lockfile`` (``packaging.pylock``). docs/design.md: the two readers.
"""

from __future__ import annotations

import sys

from envlock.runtime import sha256_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing (import time)
    from typing import Any

HEADER_SOURCE_KEYS = ("directory", "vcs", "archive")
"""A package's source keys besides its index files (PEP 751): the kind ``LockEntry.source`` names."""


class LockHeaderError(ValueError):
    """The bytes are no UTF-8 TOML document (the message says where), or no TOML reader is installed."""


class LockEntry:
    """One ``[[packages]]`` entry as the fast paths see it (immutable)."""

    __slots__ = ("directory", "editable", "marker", "name", "source", "version")

    name: str
    """As written (not normalized)."""
    version: str | None
    marker: str | None
    source: str
    """``directory``, ``vcs`` or ``archive`` when the entry has that key (the first of them), else
    ``index``."""
    directory: str | None
    """``directory.path`` (relative to the lock's folder as written) when it is a string."""
    editable: bool
    """``directory.editable`` is ``true``."""

    def __init__(
        self,
        name: str,
        version: str | None,
        marker: str | None,
        source: str,
        directory: str | None,
        editable: bool,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "marker", marker)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "directory", directory)
        object.__setattr__(self, "editable", editable)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"LockEntry is immutable: cannot set {name!r}")

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, key) for key in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LockEntry) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "LockEntry(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


class LockHeader:
    """What the fast paths read of a lock (immutable; ``settings`` is the lock's table: read it only)."""

    __slots__ = ("default_groups", "fingerprint", "inputs", "packages", "settings", "sha256")

    sha256: str
    """sha256 of the lock's bytes: what stamps, verdicts and remembered reads key on."""
    fingerprint: str | None
    """``[tool.envlock].fingerprint``: the input fingerprint compile recorded."""
    inputs: tuple[str, ...]
    """``[tool.envlock].inputs``: the input files, relative to the lock's folder (strings only)."""
    settings: dict[str, Any] | None
    """``[tool.envlock.settings]`` (None when absent or not a table)."""
    default_groups: tuple[str, ...]
    """``default-groups`` (strings only)."""
    packages: tuple[LockEntry, ...]
    """Every ``[[packages]]`` entry with a string ``name``, in the lock's order."""

    def __init__(
        self,
        sha256: str,
        fingerprint: str | None,
        inputs: tuple[str, ...],
        settings: dict[str, Any] | None,
        default_groups: tuple[str, ...],
        packages: tuple[LockEntry, ...],
    ) -> None:
        object.__setattr__(self, "sha256", sha256)
        object.__setattr__(self, "fingerprint", fingerprint)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "default_groups", default_groups)
        object.__setattr__(self, "packages", packages)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"LockHeader is immutable: cannot set {name!r}")

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, key) for key in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LockHeader) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # settings is a dict

    def __repr__(self) -> str:
        return "LockHeader(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


def mentions(data: bytes, key: str) -> bool:
    """Whether a TOML document may have a key spelled ``key`` (ASCII): its bytes hold it, or a ``\\u`` /
    ``\\U`` escape (the only escapes that can spell letters in a quoted key). False is certain."""
    return key.encode("ascii") in data or b"\\u" in data or b"\\U" in data


def read_header(data: bytes) -> LockHeader:
    """The header of the lock ``data``; LockHeaderError when it is no UTF-8 TOML document."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LockHeaderError(f"not UTF-8: {error}") from None
    document = scan_header(text)
    if document is None:
        document = parse_toml(text)
    return _header_from(document, sha256_bytes(data))


def parse_toml(text: str) -> dict[str, Any]:
    """The whole document through ``tomllib`` (or ``tomli``), its errors as LockHeaderError: the header's
    answer when the scan declines, and a lock of envlock 0.1 judged by what it recorded for humans."""
    if sys.version_info >= (3, 11):
        import tomllib as toml  # lazy: a lock the scan answers for costs no parser (~14 ms to import)
    else:  # pragma: no cover - Python < 3.11 (and the runtime copied into an older venv)
        try:
            import tomli as toml  # lazy: as tomllib above
        except ImportError:
            raise LockHeaderError("no TOML reader (tomli) for this Python") from None
    try:
        found: dict[str, Any] = toml.loads(text)
    except toml.TOMLDecodeError as error:
        raise LockHeaderError(f"not valid TOML: {error}") from None
    except RecursionError:  # arrays nested thousands deep
        raise LockHeaderError("not valid TOML: arrays or inline tables nested too deeply") from None
    return found


def _header_from(document: dict[str, Any], sha256: str) -> LockHeader:
    """The one extraction, from the scan's partial document or the full parse's."""
    tool = document.get("tool")
    table = tool.get("envlock") if isinstance(tool, dict) else None
    table = table if isinstance(table, dict) else {}
    fingerprint = table.get("fingerprint")
    settings = table.get("settings")
    packages = document.get("packages")
    entries = []
    for package in packages if isinstance(packages, list) else ():
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        directory = package.get("directory")
        directory = directory if isinstance(directory, dict) else {}
        path = directory.get("path")
        entries.append(
            LockEntry(
                name=package["name"],
                version=_header_text(package.get("version")),
                marker=_header_text(package.get("marker")),
                source=next((key for key in HEADER_SOURCE_KEYS if key in package), "index"),
                directory=path if isinstance(path, str) else None,
                editable=directory.get("editable") is True,
            )
        )
    return LockHeader(
        sha256=sha256,
        fingerprint=_header_text(fingerprint),
        inputs=_header_texts(table.get("inputs")),
        settings=settings if isinstance(settings, dict) else None,
        default_groups=_header_texts(document.get("default-groups")),
        packages=tuple(entries),
    )


def _header_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _header_texts(value: object) -> tuple[str, ...]:
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


# ---------------------------------------------------------------------------------------------------
# the scan: lines as envlock writes them, else None (the caller parses the whole document)


class _HeaderDecline(Exception):
    """The scan meets something outside the shape it reads: the full TOML parse answers."""


_HEADER_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_HEADER_PACKAGE_KEYS = frozenset({"name", "version", "marker", *HEADER_SOURCE_KEYS})
_HEADER_ENVLOCK_KEYS = frozenset({"fingerprint", "inputs", "settings"})
_HEADER_ROOT_KEYS = frozenset({"default-groups"})
_HEADER_MASK: Any = None
"""Strings and comments of a line (compiled on first use: ``re`` is not on the launch path)."""


def scan_header(text: str) -> dict[str, Any] | None:
    """The keys ``_header_from`` reads, from a lock written as envlock writes one; None when the text
    has anything else (then only a full TOML parse can say what it holds). For a valid TOML document
    the answer is what ``tomllib.loads`` gives for those keys; for an invalid one it is None or any
    document (never an exception): the full path judges the bytes, the fast paths only read bytes a
    full read has accepted before."""
    try:
        return _header_scan(text)
    except (_HeaderDecline, IndexError, ValueError, RecursionError):
        return None


def _header_scan(text: str) -> dict[str, Any]:
    text = text.replace("\r\n", "\n")  # TOML's other line break (a checkout on Windows): no string holds one
    if "\r" in text or text.startswith("\ufeff"):
        raise _HeaderDecline
    lines = text.split("\n")
    if '"""' in text or "'''" in text:  # in a string (fine), or opening a multi-line one (declined)
        for line in lines:
            if '"""' in line or "'''" in line:
                _header_mask(line)
    document: dict[str, Any] = {}
    packages: list[dict[str, Any]] = []
    table: dict[str, Any] | None = document  # where key lines go; None: a table whose keys are skipped
    wanted: frozenset[str] | None = _HEADER_ROOT_KEYS  # the keys read in ``table``; None: every key
    index = offset = 0  # the line read and where it starts in ``text``
    while index < len(lines):
        line = lines[index]
        start = offset
        index += 1
        offset += len(line) + 1
        if not line or line[0] == "#":
            continue
        if line[0] in " \t":
            if line.lstrip(" \t")[:1] in ("", "#"):
                continue
            raise _HeaderDecline  # an indented statement
        if line[0] == "[":
            shape = _header_mask(line).rstrip(" \t")
            if not line.startswith(shape):
                raise _HeaderDecline  # a quoted key in the header
            table, wanted = _header_table(shape, document, packages)
            continue
        key, sep, value = line.partition("=")
        key = key.rstrip(" \t")
        if not sep or not key or not _HEADER_BARE.issuperset(key):
            raise _HeaderDecline  # a dotted or quoted key, or no key at all
        if table is document and key in ("packages", "tool") and value.strip(" \t") != "[]":
            raise _HeaderDecline  # packages or tool written inline
        if table is None or (wanted is not None and key not in wanted):
            index, offset = _header_past(text, lines, index, offset, value)
            continue
        if key in table:
            raise _HeaderDecline
        table[key], end = _header_value(text, start + len(line) - len(value))
        end = _header_skip(text, end, newlines=False)
        if end < len(text) and text[end] != "\n":
            raise _HeaderDecline
        spanned = text.count("\n", start, end)  # more lines: a multi-line array
        if spanned:
            index, offset = index + spanned, end + 1
    if packages:
        if "packages" in document:
            raise _HeaderDecline
        document["packages"] = packages
    return document


def _header_past(text: str, lines: list[str], index: int, offset: int, value: str) -> tuple[int, int]:
    """Past a value this scan does not read (``value``: the rest of its line; ``index``, ``offset``: the
    next line): one line, or the lines of a multi-line array up to the first line that is ``]`` alone.
    Only a ``]`` outside strings closes an array: lines without one (every wheel line envlock writes)
    are passed over unread."""
    if "[" not in value and "{" not in value:
        return index, offset
    shape = value if '"' not in value and "'" not in value and "#" not in value else _header_mask(value)
    shape = shape.strip(" \t")
    if shape != "[":
        if not _header_balanced(shape):
            raise _HeaderDecline  # a statement going on over lines this scan does not follow
        return index, offset
    close = text.find("\n]", offset - 1)  # the line break before the first line starting with "]"
    end = text.find("\n", close + 1)
    end = len(text) if end < 0 else end
    if close < 0 or text[close + 2 : end].strip(" \t"):
        raise _HeaderDecline
    if "]" in text[offset:close]:  # a nested array, or a "]" in a string: the lines with one, masked
        for line in lines[index : index + text.count("\n", offset, close + 1)]:
            if "]" in line and not _header_balanced(_header_mask(line)):
                raise _HeaderDecline
    return index + text.count("\n", offset, close + 1) + 1, end + 1


def _header_balanced(shape: str) -> bool:
    return shape.count("[") == shape.count("]") and shape.count("{") == shape.count("}")


def _header_mask(line: str) -> str:
    """``line`` with each string as one letter and its comment gone: its structure, not its text; a
    quote left over (a string not closed on its line) declines."""
    global _HEADER_MASK
    if _HEADER_MASK is None:
        import re  # lazy: a lock whose lines need no masking is scanned without it

        # as TOML reads a line: three quotes where a string starts open a multi-line one
        _HEADER_MASK = re.compile(r'"""|\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*')
    shape: str = _HEADER_MASK.sub(_header_masked, line)
    if "'" in shape or '"' in shape:
        raise _HeaderDecline
    return shape


def _header_masked(match: Any) -> str:
    """A string becomes one letter, a comment nothing, a multi-line string's opening quotes a quote (a
    quote left over declines)."""
    found = match.group()
    return "" if found[0] == "#" else found[0] if found in ('"""', "'''") else "s"


def _header_table(
    shape: str, document: dict[str, Any], packages: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, frozenset[str] | None]:
    """The table a header line opens (None: one whose keys are skipped) and the keys read in it."""
    if shape == "[[packages]]":
        packages.append({})
        return packages[-1], _HEADER_PACKAGE_KEYS
    if shape.startswith("[[") or not shape.endswith("]"):
        raise _HeaderDecline
    parts = shape[1:-1].split(".")
    if not all(part and _HEADER_BARE.issuperset(part) for part in parts):
        raise _HeaderDecline  # quoted keys, spaces, an array of tables
    if parts[:2] == ["packages", "tool"] and packages:
        return None, None
    if parts[0] != "tool":
        raise _HeaderDecline
    if parts[:3] != ["tool", "envlock", "settings"]:
        if parts[:2] == ["tool", "envlock"] and len(parts) > 2:
            return None, None  # [tool.envlock.options] and the like
        tool = document.setdefault("tool", {})
        if not isinstance(tool, dict):
            raise _HeaderDecline
        if parts == ["tool", "envlock"]:
            envlock = tool.setdefault("envlock", {})
            if not isinstance(envlock, dict):
                raise _HeaderDecline
            return envlock, _HEADER_ENVLOCK_KEYS
        return (tool, frozenset({"envlock"})) if parts == ["tool"] else (None, None)
    table = document
    for part in parts:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise _HeaderDecline
    return table, None


def _header_skip(text: str, index: int, *, newlines: bool) -> int:
    """Past spaces and tabs (and line breaks and comments when ``newlines``, as inside an array);
    a comment ends the line (the masked line had no string there)."""
    while index < len(text):
        char = text[index]
        if char in " \t" or (newlines and char == "\n"):
            index += 1
        elif char == "#":
            end = text.find("\n", index)
            if not newlines:
                return len(text) if end < 0 else end
            index = len(text) if end < 0 else end
        else:
            break
    return index


_HEADER_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_HEADER_CONTROL = frozenset(chr(c) for c in (*range(0x09), *range(0x0A, 0x20), 0x7F))
"""What TOML refuses raw in a string (a tab is allowed)."""
_HEADER_WORD = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_+-.:")


def _header_value(text: str, index: int, depth: int = 0) -> tuple[Any, int]:
    """The TOML value at ``text[index:]`` (after spaces) and the index past it: strings, integers,
    booleans, arrays and inline tables; floats, dates and anything unusual decline."""
    if depth > 32:
        raise _HeaderDecline
    index = _header_skip(text, index, newlines=False)
    char = text[index]
    if char == '"':
        return _header_string(text, index + 1)
    if char == "'":
        end = text.index("'", index + 1)
        body = text[index + 1 : end]
        if "\n" in body or not _HEADER_CONTROL.isdisjoint(body):
            raise _HeaderDecline
        return body, end + 1
    if char == "[":
        items = []
        index = _header_skip(text, index + 1, newlines=True)
        while text[index] != "]":
            item, index = _header_value(text, index, depth + 1)
            items.append(item)
            index = _header_skip(text, index, newlines=True)
            if text[index] == ",":
                index = _header_skip(text, index + 1, newlines=True)
            elif text[index] != "]":
                raise _HeaderDecline
        return items, index + 1
    if char == "{":
        table: dict[str, Any] = {}
        index = _header_skip(text, index + 1, newlines=False)
        if text[index] == "}":
            return table, index + 1
        while True:
            end = index
            while text[end] in _HEADER_BARE:
                end += 1
            key = text[index:end]
            index = _header_skip(text, end, newlines=False)
            if not key or key in table or text[index] != "=":
                raise _HeaderDecline  # quoted or dotted keys, a repeated key
            table[key], index = _header_value(text, index + 1, depth + 1)
            index = _header_skip(text, index, newlines=False)
            if text[index] == "}":
                return table, index + 1
            if text[index] != ",":
                raise _HeaderDecline
            index = _header_skip(text, index + 1, newlines=False)
    end = index
    while end < len(text) and text[end] in _HEADER_WORD:
        end += 1
    word = text[index:end]
    if word in ("true", "false"):
        return word == "true", end
    digits = word[1:] if word[:1] in "+-" else word
    if digits.isdigit() and digits.isascii() and (digits == "0" or digits[0] != "0"):
        return int(word), end
    raise _HeaderDecline  # floats, dates, underscores, other bases


def _header_string(text: str, index: int) -> tuple[str, int]:
    """A basic string's value from just past its opening quote, and the index past its closing one."""
    parts = []
    while True:
        end = index
        while text[end] not in '"\\':
            end += 1
        chunk = text[index:end]
        if not _HEADER_CONTROL.isdisjoint(chunk):
            raise _HeaderDecline  # a raw control character or line break: not TOML
        parts.append(chunk)
        if text[end] == '"':
            return "".join(parts), end + 1
        escape = text[end + 1]
        if escape in _HEADER_ESCAPES:
            parts.append(_HEADER_ESCAPES[escape])
            index = end + 2
            continue
        size = {"u": 4, "U": 8}.get(escape)
        digits = text[end + 2 : end + 2 + size] if size else ""
        if not size or len(digits) != size or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise _HeaderDecline
        code = int(digits, 16)
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            raise _HeaderDecline
        parts.append(chr(code))
        index = end + 2 + size
