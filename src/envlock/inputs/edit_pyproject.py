"""Editing pyproject.toml for ``envlock add`` / ``remove``: one array of requirement strings
(``[project] dependencies``, ``[project.optional-dependencies]`` E or ``[dependency-groups]`` G) changed
in the text itself, so that comments, order, quoting and layout stay; every edit is checked by parsing
the result and comparing the array with the one intended (else nothing is written).

Text-level rather than tomlkit: tomlkit is not among envlock's dependencies (the lock writer dropped it,
``lock.lockfile``), and arrays of strings are the one shape edited here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from envlock.errors import InputError
from envlock.inputs.edits import AddSpec, Edited, absent, entry_name, replacing
from envlock.tomlshim import tomllib


@dataclass(frozen=True)
class Place:
    """Which array of pyproject.toml an edit is for."""

    table: str
    """``project``, ``project.optional-dependencies`` or ``dependency-groups``."""
    key: str
    """``dependencies``, the extra or the group."""

    @property
    def shown(self) -> str:
        return f"[{self.table}] {self.key}"


def place_for(extra: str | None, group: str | None) -> Place:
    if extra is not None:
        return Place("project.optional-dependencies", extra)
    if group is not None:
        return Place("dependency-groups", group)
    return Place("project", "dependencies")


_HEADER = re.compile(r"^[ \t]*\[(?!\[)[ \t]*([^\]\n]+?)[ \t]*\][ \t]*(#[^\n]*)?$", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


def _values(data: dict[str, Any], place: Place) -> list[Any] | None:
    table: Any = data
    for part in place.table.split("."):
        table = table.get(part) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        return None
    if place.table == "project":
        value = table.get(place.key)
    else:  # extras and groups are matched by their normalized names, as the readers do
        keys = [k for k in table if canonicalize_name(k) == canonicalize_name(place.key)]
        value = table[keys[0]] if keys else None
    return value if isinstance(value, list) else None


def _load(text: str, shown: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{shown}: invalid TOML: {error}") from None
    return data


def add_pyproject(text: str, specs: Sequence[AddSpec], place: Place, shown: str) -> Edited:
    """``specs`` written into ``place``: an entry of the same name replaced in place (its quoting
    kept), a new one appended after the last (a missing array or table is created)."""
    data = _load(text, shown)
    _refuse_dynamic(data, place, shown)
    values = _values(data, place)
    expected = list(values or [])
    added: list[str] = []
    updated: list[str] = []
    for spec in specs:
        array = _find_array(text, place, shown) if values is not None else None
        if array is None:
            text = _new_array(text, place, spec, shown)
            values = [spec.text]
            expected = [spec.text]
            added.append(spec.name)
            continue
        matching = [i for i, item in enumerate(array.items) if entry_name(item.value) == spec.name]
        if len(matching) > 1:
            raise InputError(f"{shown}: {spec.name} has several entries in {place.shown}; edit them by hand")
        if matching:
            item = array.items[matching[0]]
            written = replacing(spec, item.value)
            text = text[: item.start] + _quoted(written, text[item.start]) + text[item.end :]
            expected[_position(expected, item.value)] = written
            updated.append(spec.name)
        else:
            text = _append(text, array, spec.text)
            expected.append(spec.text)
            added.append(spec.name)
    _verify(text, place, expected, shown)
    return Edited(text, added=tuple(added), updated=tuple(updated))


def remove_pyproject(text: str, names: Sequence[str], place: Place, shown: str) -> Edited:
    """Every entry of each name (canonical) taken out of ``place``, its whole line when it has one to
    itself; a name not there is an error naming ``shown`` and the table."""
    data = _load(text, shown)
    _refuse_dynamic(data, place, shown)
    values = _values(data, place)
    present = {entry_name(v) for v in values or [] if isinstance(v, str)}
    for name in names:
        if name not in present:
            raise absent(shown, name, place.shown)
    expected = [v for v in values or [] if not (isinstance(v, str) and entry_name(v) in names)]
    array = _find_array(text, place, shown)
    if array is None:
        raise _by_hand(shown, place)
    for item in reversed(array.items):
        if entry_name(item.value) in names:
            text = _drop(text, array, item)
    _verify(text, place, expected, shown)
    return Edited(text, removed=tuple(names))


def _position(values: list[Any], value: str) -> int:
    return next(i for i, v in enumerate(values) if v == value)


def _refuse_dynamic(data: dict[str, Any], place: Place, shown: str) -> None:
    project = data.get("project")
    dynamic = project.get("dynamic", []) if isinstance(project, dict) else []
    field = "dependencies" if place.table == "project" else "optional-dependencies"
    if place.table != "dependency-groups" and field in dynamic:
        raise InputError(
            f"{shown}: [project] {field} is dynamic (the build backend makes it): edit its source"
        )


def _by_hand(shown: str, place: Place) -> InputError:
    return InputError(
        f"{shown}: {place.shown} is written in a form envlock does not edit (an inline or dotted table)",
        hint="edit it by hand, then run envlock compile",
    )


def _verify(text: str, place: Place, expected: list[Any], shown: str) -> None:
    """The edit is kept only if the file still parses and ``place`` holds exactly ``expected``."""
    try:
        values = _values(tomllib.loads(text), place)
    except tomllib.TOMLDecodeError:
        values = None
    if values != expected:
        raise _by_hand(shown, place)


@dataclass(frozen=True)
class _Item:
    start: int
    """Offset of the opening quote."""
    end: int
    """Offset after the closing quote."""
    value: str


@dataclass(frozen=True)
class _Array:
    open: int
    """Offset of ``[``."""
    close: int
    """Offset of ``]``."""
    items: tuple[_Item, ...]
    """The string items (inline tables such as ``{include-group = ...}`` are skipped)."""


def _find_array(text: str, place: Place, shown: str) -> _Array | None:
    """The array of ``place`` in ``text``: ``key = [`` inside the ``[table]`` section. None when the
    table has no such key; an array the data holds but the text does not show in that form (dotted
    keys, inline tables) is refused."""
    section = _section(text, place.table)
    if section is None:
        return None
    start, end = section
    key = re.compile(r"^[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[A-Za-z0-9_-]+)[ \t]*=[ \t]*", re.MULTILINE)
    for match in key.finditer(text, start, end):
        name = match.group(1).strip("\"'")
        same = (
            name == place.key
            if place.table == "project"
            else canonicalize_name(name) == canonicalize_name(place.key)
        )
        if same:
            if text[match.end() : match.end() + 1] != "[":
                raise _by_hand(shown, place)
            return _scan(text, match.end(), shown, place)
    return None


def _section(text: str, table: str) -> tuple[int, int] | None:
    """(start, end) offsets of the body of ``[table]``: after its header line, up to the next header."""
    for match in _HEADER.finditer(text):
        if re.sub(r"[ \t]", "", match.group(1)).replace('"', "") == table:
            following = _ANY_HEADER.search(text, match.end())
            return match.end(), following.start() if following else len(text)
    return None


def _scan(text: str, open_at: int, shown: str, place: Place) -> _Array:
    """The items of the array whose ``[`` is at ``open_at``: strings at depth 1, with comments, nested
    brackets and braces stepped over."""
    items: list[_Item] = []
    depth, i = 0, open_at
    while i < len(text):
        char = text[i]
        if char == "#":
            i = text.find("\n", i)
            if i < 0:
                break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return _Array(open_at, i, tuple(items))
        elif char in "\"'":
            end = _string_end(text, i)
            if depth == 1:
                items.append(_Item(i, end, tomllib.loads(f"v = {text[i:end]}")["v"]))
            i = end - 1
        i += 1
    raise _by_hand(shown, place)


def _string_end(text: str, start: int) -> int:
    """The offset after the string that opens at ``start`` (basic with escapes, or literal; single-line
    forms, as dependency strings are written)."""
    quote, i = text[start], start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if quote == '"' and text[i] == "\\" else 1
    return i + 1


def _quoted(value: str, quote: str) -> str:
    """``value`` as a TOML string in the quote style of the entry it replaces (double when it cannot)."""
    if quote == "'" and "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _append(text: str, array: _Array, value: str) -> str:
    inside = text[array.open + 1 : array.close]
    quote = text[array.items[-1].start] if array.items else '"'
    written = _quoted(value, quote)
    if "\n" not in inside:  # one line: ["a", "b"] -> ["a", "b", "new"]
        if not array.items and not inside.strip():
            return text[: array.open + 1] + written + text[array.close :]
        at = array.items[-1].end if array.items else array.close
        return text[:at] + ", " + written + text[at:]
    newline = _newline(text)
    line_start = text.rfind("\n", 0, array.close) + 1
    if array.items:
        last = array.items[-1]
        last_line = text.rfind("\n", 0, last.start) + 1
        indent = text[last_line : last.start] if not text[last_line : last.start].strip() else "    "
        after = text[last.end : array.close]
        if not after.lstrip(" \t").startswith(","):
            text = text[: last.end] + "," + text[last.end :]
            line_start += 1
    else:
        indent = "    "
    close = text.find("]", line_start)
    if text[line_start:close].strip():  # "...  "last"]": the new entry goes before the bracket
        return text[:close] + "," + newline + indent + written + newline + text[close:]
    return text[:line_start] + indent + written + "," + newline + text[line_start:]


def _new_array(text: str, place: Place, spec: AddSpec, shown: str) -> str:
    """``key = ["spec"]`` added to ``place``'s table (after its last line), or the table added at the
    end of the file; ``[project]`` itself is never created (it needs a name and a version)."""
    newline = _newline(text)
    key = place.key if re.fullmatch(r"[A-Za-z0-9_-]+", place.key) else f'"{place.key}"'
    entry = f"{key} = [{newline}    {_quoted(spec.text, chr(34))},{newline}]{newline}"
    section = _section(text, place.table)
    if section is not None:
        body = text[section[0] : section[1]]
        at = section[0] + len(body.rstrip())
        return text[:at] + newline + entry.rstrip("\r\n") + text[at:]
    if place.table == "project":
        raise InputError(
            f"{shown}: has no [project] table to add dependencies to",
            hint="add to a dependency group instead: envlock add --group dev SPEC",
        )
    ending = "" if not text or text.endswith("\n") else newline
    return text + ending + (newline if text.strip() else "") + f"[{place.table}]{newline}" + entry


def _drop(text: str, array: _Array, item: _Item) -> str:
    line_start = text.rfind("\n", 0, item.start) + 1
    line_end = text.find("\n", item.end)
    line_end = len(text) if line_end < 0 else line_end + 1
    before, after = text[line_start : item.start], text[item.end : line_end]
    if not before.strip() and re.fullmatch(r"[ \t]*,?[ \t]*(#[^\n]*)?\r?\n?", after):
        return text[:line_start] + text[line_end:]  # the entry has its line to itself
    rest = re.match(r"[ \t]*,[ \t]*", text[item.end :])
    if rest is not None:
        return text[: item.start] + text[item.end + rest.end() :]
    earlier = [i for i in array.items if i.end <= item.start]
    start = earlier[-1].end if earlier else item.start
    return text[:start] + text[item.end :]
