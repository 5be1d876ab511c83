"""What ``envlock add`` / ``remove`` ask of an input file, as values: the requirements to write, the
names to drop, and the edited text with what changed. The editors (``inputs.edit_requirements``,
``inputs.edit_pyproject``) are pure: text in, ``Edited`` out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envlock.errors import InputError


@dataclass(frozen=True)
class AddSpec:
    """One ``envlock add`` argument: the text written to the file, and the project it names."""

    text: str
    """As typed (stripped): the file gets the user's spelling, not packaging's normal form."""
    name: str
    """The canonical project name (PEP 503): what an existing entry is matched by."""


@dataclass(frozen=True)
class Edited:
    """An editor's answer: the new text, and the canonical names it added, updated or removed."""

    text: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def parse_specs(specs: Sequence[str]) -> tuple[AddSpec, ...]:
    """``envlock add`` arguments as PEP 508 requirements (exit 2 naming the bad one); a project named
    twice is refused, as the file could hold only one of them."""
    parsed: dict[str, AddSpec] = {}
    for raw in specs:
        text = raw.strip()
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            raise InputError(f"invalid requirement {raw!r}: {error}") from None
        name = canonicalize_name(requirement.name)
        if name in parsed:
            raise InputError(f"{requirement.name} is named twice: {parsed[name].text!r} and {text!r}")
        parsed[name] = AddSpec(text, name)
    return tuple(parsed.values())


def entry_name(text: str) -> str | None:
    """The canonical project name of an input entry (a PEP 508 requirement); None for anything else
    (a bare URL or path, an option, a ``${VAR}`` that hides the name), which no edit matches."""
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def replacing(spec: AddSpec, old: str) -> str:
    """What replaces the entry ``old`` of ``spec``'s project: ``spec`` as typed, keeping ``old``'s
    environment marker when ``spec`` names none (``add "pywin32>=306"`` over a ``; sys_platform ==
    "win32"`` entry changes the version, not where it installs)."""
    try:
        new_marker = Requirement(spec.text).marker
        old_marker = Requirement(old).marker
    except InvalidRequirement:
        return spec.text
    if new_marker is not None or old_marker is None:
        return spec.text
    return f"{spec.text}; {old_marker}"


def absent(shown: str, name: str, where: str = "") -> InputError:
    """``remove`` of a name the file does not hold: exit 2, naming the file (and the table)."""
    return InputError(
        f"{shown}: no requirement named {name}{f' in {where}' if where else ''} to remove",
        hint="envlock remove takes the names the input lists (see the file)",
    )
