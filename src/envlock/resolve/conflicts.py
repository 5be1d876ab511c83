"""A resolution conflict in plain words: each clashing requirement with the chain that led to it, why
the versions on the index were not candidates, and which requirements name a project no index has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from packaging.version import Version

from envlock.errors import NOT_FOUND_HINT
from envlock.resolve.models import PYTHON, Req
from envlock.resolve.provider import Provider


def conflict_hint(causes: Sequence[Any], provider: Provider) -> str:
    if causes and all(cause.requirement.name in provider.missing for cause in causes):
        return NOT_FOUND_HINT
    return "relax one of the requirements named above, or pin a version that fits all of them"


def explain_conflict(causes: Sequence[Any], provider: Provider) -> str:
    """Plain words: each clashing requirement with the chain that led to it."""
    lines: list[str] = []
    names = sorted({cause.requirement.name for cause in causes})
    subject = ", ".join(n if n != PYTHON else "the Python version" for n in names)
    if len(causes) == 1 and causes[0].parent is None and causes[0].requirement.name != PYTHON:
        req = causes[0].requirement
        if req.name in provider.missing:
            where = provider.missing[req.name]
            return f"project {req.name!r} is not on any index ({where}): required by {_chain(req)}"
        lines.append(f"no version of {req.name} satisfies {req} (required by {_chain(req)})")
        lines.extend(_doomed(provider, req.identifier))
        lines.extend(_why_none(provider, req.name))
        return "\n".join(lines)
    if all(name in provider.missing for name in names):
        lines.append("cannot resolve: these requirements name a project no index has:")
    else:
        lines.append(f"cannot pin {subject}: these requirements clash:")
    notes = {name: f", which is not on any index ({where})" for name, where in provider.missing.items()}
    notes[PYTHON] = f" (the target is Python {provider.python_version})"
    lines.extend(f"  {text}" for text in _summarised(causes, notes))
    for identifier in sorted({cause.requirement.identifier for cause in causes}):
        lines.extend(_doomed(provider, identifier))
    for name in names:
        if name != PYTHON and name in provider.excluded:
            lines.extend(_why_none(provider, name))
    return "\n".join(lines)


def _summarised(causes: Sequence[Any], notes: Mapping[str, str]) -> list[str]:
    """One line per clashing requirement: the versions of one parent that all require the same thing
    are one line (``a 1.0 … 60.0 (60 versions) require b==2``), not one line per version. ``notes``:
    what to add after a requirement on that project (the target's Python, "not on any index")."""
    groups: dict[tuple[tuple[str, ...], str, str], list[Version]] = {}
    for cause in causes:
        req, parent = cause.requirement, cause.parent
        text = str(req) + notes.get(req.name, "")
        if parent is None:
            groups.setdefault((req.path, "", text), [])
            continue
        groups.setdefault((req.path[:-1], parent.identifier, text), []).append(parent.version)
    lines = []
    for (chain, parent, requirement), versions in groups.items():
        if not parent:
            lines.append(f"{_chain_of(chain)} requires {requirement}")
            continue
        ordered = sorted(set(versions))
        if len(ordered) == 1:
            who = f"{parent} {ordered[0]} requires"
        else:
            who = f"{parent} {ordered[0]} … {ordered[-1]} ({len(ordered)} versions) require"
        lines.append(f"{_chain_of((*chain, who))} {requirement}")
    return lines


def _doomed(provider: Provider, identifier: str) -> list[str]:
    """Why the versions the provider ruled out for good (``Provider.note_rejected``) cannot be pinned:
    the clash of their own dependencies with the input's requirements."""
    doomed = provider.doomed.get(identifier, {})
    if not doomed:
        return []
    ordered = sorted(doomed)
    shown = (
        f"{ordered[0]}" if len(ordered) == 1 else f"{ordered[0]} … {ordered[-1]} ({len(ordered)} versions)"
    )
    clashes = [info for version in ordered for info in doomed[version]]
    note = {PYTHON: f" (the target is Python {provider.python_version})"}
    whose = "their" if len(ordered) > 1 else "its"
    lines = [f"  {identifier} {shown} cannot be pinned: {whose} requirements clash with the input's:"]
    lines.extend(f"    {text}" for text in dict.fromkeys(_summarised(clashes, note)))
    return lines


def _chain(req: Req) -> str:
    return _chain_of(req.path)


def _chain_of(path: Sequence[str]) -> str:
    return " → ".join(path) if path else "the input"


def _why_none(provider: Provider, name: str) -> list[str]:
    excluded = provider.excluded.get(name, {})
    lines = []
    for version in sorted(excluded, reverse=True)[:5]:
        lines.append(f"  {name} {version} is not a candidate: {excluded[version]}")
    try:
        versions = provider.client.project(name).versions()
    except Exception:
        versions = []
    if versions:
        shown = ", ".join(str(v) for v in versions[:8]) + (" ..." if len(versions) > 8 else "")
        lines.append(f"  versions on the index: {shown}")
    return lines
