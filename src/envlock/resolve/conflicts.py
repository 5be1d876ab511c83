"""A resolution conflict in plain words: each clashing requirement with the chain that led to it, and
why the versions on the index were not candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envlock.resolve.models import PYTHON, Req
from envlock.resolve.provider import Provider


def conflict_hint() -> str:
    return "relax one of the requirements named above, or pin a version that fits all of them"


def explain_conflict(causes: Sequence[Any], provider: Provider) -> str:
    """Plain words: each clashing requirement with the chain that led to it."""
    lines: list[str] = []
    names = sorted({cause.requirement.name for cause in causes})
    subject = ", ".join(n if n != PYTHON else "the Python version" for n in names)
    if len(causes) == 1 and causes[0].parent is None and causes[0].requirement.name != PYTHON:
        req = causes[0].requirement
        lines.append(f"no version of {req.name} satisfies {req} (required by {_chain(req)})")
        lines.extend(_why_none(provider, req.name))
        return "\n".join(lines)
    lines.append(f"cannot pin {subject}: these requirements clash:")
    seen = set()
    for cause in causes:
        req = cause.requirement
        if req.name == PYTHON:
            text = f"  {_chain(req)} requires {req} (the target is Python {provider.python_version})"
        else:
            text = f"  {_chain(req)} requires {req}"
        if text not in seen:
            seen.add(text)
            lines.append(text)
    for name in names:
        if name != PYTHON and name in provider.excluded:
            lines.extend(_why_none(provider, name))
    return "\n".join(lines)


def _chain(req: Req) -> str:
    return " → ".join(req.path) if req.path else "the input"


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
