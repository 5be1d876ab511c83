"""Editing a requirements input (pip syntax) for ``envlock add`` / ``remove``: the entry of a name is
found with the one lexer (``inputs.requirements_syntax``: continuations, comments, markers) and only
its lines change; every other line keeps its bytes."""

from __future__ import annotations

from collections.abc import Sequence

from envlock.errors import InputError
from envlock.inputs.edits import AddSpec, Edited, absent, entry_name, replacing
from envlock.inputs.requirements_syntax import logical_spans, physical_lines


def _entries(text: str) -> dict[str, list[tuple[int, int, str]]]:
    """Canonical name -> the (first, last) physical lines (1-based) and the joined text of each
    requirement entry of that name in ``text``; option lines (``-r``, ``--index-url``...) are none."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for first, last, joined in logical_spans(text):
        name = None if joined.startswith("-") else entry_name(joined)
        if name is not None:
            found.setdefault(name, []).append((first, last, joined))
    return found


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _ending(line: str) -> str:
    """The line break ``line`` ends with ("" on a last line without one)."""
    stripped = line.rstrip("\r\n")
    return line[len(stripped) :]


def add_requirements(text: str, specs: Sequence[AddSpec], shown: str) -> Edited:
    """``specs`` written into ``text``: an entry of the same name is replaced in place (its indent and
    trailing comment kept, its continuation lines folded into one), a new one appended at the end. A
    name with several entries (per-marker lines) is refused: which one to change is the user's call."""
    added: list[str] = []
    updated: list[str] = []
    for spec in specs:
        spans = _entries(text).get(spec.name, [])
        if len(spans) > 1:
            lines_named = ", ".join(str(span[0]) for span in spans)
            raise InputError(
                f"{shown}: {spec.name} has several entries (lines {lines_named}); edit them by hand"
            )
        if spans:
            first, last, old = spans[0]
            text = _replace(text, (first, last), replacing(spec, old))
            updated.append(spec.name)
        else:
            newline = _newline(text)
            if text and not text.endswith(("\n", "\r")):
                text += newline
            text += spec.text + newline
            added.append(spec.name)
    return Edited(text, added=tuple(added), updated=tuple(updated))


def _replace(text: str, span: tuple[int, int], written: str) -> str:
    first, last = span
    lines = text.splitlines(keepends=True)
    head = lines[first - 1]
    indent = head[: len(head) - len(head.lstrip(" \t"))]
    tail = lines[last - 1]
    physical = next(p for p in physical_lines(text) if p.number == last)
    body = tail[: len(tail) - len(_ending(tail))]
    comment = body[len(physical.code) :] if physical.comment is not None else ""
    lines[first - 1 : last] = [indent + written + comment + _ending(tail)]
    return "".join(lines)


def remove_requirements(text: str, names: Sequence[str], shown: str) -> Edited:
    """Every entry of each name in ``names`` (canonical) taken out, all its lines; a name ``text`` does
    not list is an error naming ``shown`` (nothing is removed then)."""
    entries = _entries(text)
    for name in names:
        if name not in entries:
            raise absent(shown, name)
    dropped = {
        number for name in names for first, last, _ in entries[name] for number in range(first, last + 1)
    }
    lines = text.splitlines(keepends=True)
    kept = [line for number, line in enumerate(lines, start=1) if number not in dropped]
    return Edited("".join(kept), removed=tuple(names))
