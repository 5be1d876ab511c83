"""The one lexer of pip's requirements-file syntax: comments, ``\\`` continuations and option lines.
Compile inputs (``inputs.requirements_file``), hashed requirements files read as a lock
(``lock.requirements_lock``) and pip-compile's ``# via`` annotations (``lock.importer``) all split lines
here, so they agree.

Standard library only: reading a hashed lock must not import what compile needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_COMMENT = re.compile(r"(^|\s+)#.*$")
"""pip's rule: ``#`` starts a comment at the start of a line or after whitespace (any: a tab too), so
``#`` inside a URL (``...whl#sha256=...``) is not one."""

_LONG_OPTION = re.compile(r"(--[^\s=]*)(?:=|\s+|$)(.*)", re.DOTALL)
"""``--name=value`` or ``--name value``: the name ends at the first ``=`` or whitespace, so an ``=``
inside the value (``--index-url https://host/simple?a=b``) stays in the value."""


@dataclass(frozen=True)
class PhysicalLine:
    """One line of the file as written, split into its code and its comment."""

    number: int
    """1-based line number."""
    code: str
    """The line without its comment, trailing whitespace removed."""
    comment: str | None
    """What follows the ``#`` that starts the comment; None when the line has none."""

    @property
    def continues(self) -> bool:
        """The code ends with ``\\``: the next line belongs to the same logical line."""
        return self.code.endswith("\\")


def physical_lines(text: str) -> Iterator[PhysicalLine]:
    """Every line of ``text`` with its comment split off."""
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _COMMENT.search(raw)
        if match is None:
            yield PhysicalLine(number, raw.rstrip(), None)
        else:
            comment = raw[match.start() :].lstrip()[1:]
            yield PhysicalLine(number, raw[: match.start()].rstrip(), comment)


def logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """(first line number, text) with comments removed and backslash continuations joined (by one
    space); blank and comment-only lines are left out. A comment ends the line it is on, so a ``\\``
    inside a comment joins nothing."""
    for first, _last, joined in logical_spans(text):
        yield first, joined


def logical_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``logical_lines`` with the last physical line of each too: (first, last, text), so that an
    editor (``inputs.edit_requirements``) knows which lines a requirement spans."""
    pending: list[str] = []
    start = last = 0
    for line in physical_lines(text):
        if not pending:
            start = line.number
        last = line.number
        if line.continues:
            pending.append(line.code[:-1])
            continue
        pending.append(line.code)
        joined = " ".join(part.strip() for part in pending).strip()
        pending = []
        if joined:
            yield start, last, joined
    if pending:
        joined = " ".join(part.strip() for part in pending).strip()
        if joined:
            yield start, last, joined


def split_option(line: str) -> tuple[str, str]:
    """An option line into (name, value), as pip reads them: ``--name=value``, ``--name value``, and
    short options with the value attached or apart (``-rfile``, ``-r file``). The value is the rest of
    the line, stripped ("" when there is none); the name is not checked here."""
    if line.startswith("--"):
        match = _LONG_OPTION.match(line)
        assert match is not None  # the pattern matches any line that starts with "--"
        return match.group(1), match.group(2).strip()
    return line[:2], line[2:].strip()
