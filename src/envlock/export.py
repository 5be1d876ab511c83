"""Pure: a PEP 751 lock + chosen extras/groups -> a hashed pip requirements file (``envlock export``).

Every entry becomes ``name==version ; marker`` with one ``--hash`` per artifact of that entry, so
``pip install --require-hashes --no-deps -r FILE`` installs what ``envlock sync`` installs. PEP 751
package markers may test ``extras`` and ``dependency_groups``, which pip does not know: those tests are
evaluated away for the chosen extras/groups (an entry whose marker is then false is left out, the rest
of its marker is kept for pip to evaluate at install time). See docs/migrating-from-pip-tools.md.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
from packaging.utils import canonicalize_name

from envlock.errors import InputError, LockFileError, UnsupportedError
from envlock.http import strip_credentials

FORMATS = ("requirements-txt",)
_SELECTION_VARIABLES = frozenset({"extras", "dependency_groups", "extra"})
_PIP_HASHES = ("sha256", "sha384", "sha512")
"""Hash algorithms pip's --hash accepts, in the order we prefer them."""


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how."""

    extras: tuple[str, ...] = ()
    """Extras of the lock to include (PEP 751 ``extras``)."""
    groups: tuple[str, ...] | None = None
    """Dependency groups to include; None means the lock's ``default-groups``."""
    emit_index_url: bool = True
    """Write ``--index-url`` / ``--extra-index-url`` lines (never with credentials)."""
    lock_name: str = "pylock.toml"
    """How the header names the lock (as the user gave it)."""
    command: str = "envlock export"
    """The command line that regenerates the file, for the header."""
    lock_dir: Path | None = None
    """The lock's folder: artifact ``path`` values are relative to it."""
    output_dir: Path | None = None
    """The output file's folder: ``--find-links`` folders are written relative to it (pip reads them
    relative to the requirements file); None writes them as the lock has them."""


def export_requirements(lock: Pylock, options: ExportOptions) -> str:
    """The requirements text (deterministic: same lock and options, same bytes). Raises InputError for
    undeclared extras/groups and UnsupportedError naming a package pip cannot install by hash."""
    extras = _chosen(options.extras, lock.extras or (), "extras")
    declared_groups = [*(lock.dependency_groups or ()), *(lock.default_groups or ())]
    groups = (
        frozenset(str(canonicalize_name(g)) for g in lock.default_groups or ())
        if options.groups is None
        else _chosen(options.groups, declared_groups, "dependency groups")
    )
    entries: list[tuple[str, str, str]] = []
    find_links: set[str] = set()
    for package in lock.packages:
        try:
            marker = residual_marker(package.marker, extras=extras, groups=groups)
        except (UndefinedComparison, UndefinedEnvironmentName) as error:
            raise LockFileError(
                f"package {str(package.name)!r}: its marker {str(package.marker)!r} "
                f"cannot be evaluated: {error}"
            ) from None
        if marker is False:
            continue
        requirement, links = _requirement(package, None if marker is True else marker, options)
        find_links.update(links)
        entries.append((str(package.name), str(package.version or ""), requirement))
    lines = _header(lock, options, extras, groups)
    if options.emit_index_url:
        lines.extend(_index_lines(lock))
    lines.extend(f"--find-links {link}" for link in sorted(find_links))
    if len(lines) > 0 and lines[-1] != "":
        lines.append("")
    lines.extend(requirement for _name, _version, requirement in sorted(entries))
    return "\n".join(lines) + "\n"


def residual_marker(marker: Marker | None, *, extras: Collection[str], groups: Collection[str]) -> bool | str:
    """``marker`` with every test of ``extras`` / ``dependency_groups`` / ``extra`` replaced by its value
    for the chosen extras/groups: True (always applies), False (never), or the remaining marker text
    (environment tests only, which pip evaluates)."""
    if marker is None:
        return True
    environment = {
        "extras": frozenset(str(canonicalize_name(e)) for e in extras),
        "dependency_groups": frozenset(str(canonicalize_name(g)) for g in groups),
        "extra": frozenset(str(canonicalize_name(e)) for e in extras),
    }
    # packaging has no public partial evaluation; its parsed tree (``Marker._markers``: atoms are
    # (lhs, op, rhs) tuples of Variable/Value/Op nodes, nested lists are parentheses, "and"/"or"
    # strings between them) is the documented shape that ``str(Marker)`` itself formats.
    result = _partial(marker._markers, environment)
    if isinstance(result, bool):
        return result
    return str(Marker(result))


def _partial(tree: Sequence[Any], environment: Mapping[str, frozenset[str]]) -> bool | str:
    """Evaluate the selection tests of one (sub)expression; ``and`` binds tighter than ``or``."""
    alternatives: list[list[bool | str]] = [[]]
    for item in tree:
        if item == "or":
            alternatives.append([])
        elif item == "and":
            continue
        elif isinstance(item, list):
            alternatives[-1].append(_parenthesized(_partial(item, environment)))
        else:
            alternatives[-1].append(_atom(item, environment))
    kept: list[str] = []
    for terms in alternatives:
        if any(term is False for term in terms):
            continue
        rest = [term for term in terms if isinstance(term, str)]
        if not rest:
            return True
        kept.append(" and ".join(rest))
    if not kept:
        return False
    return " or ".join(kept)


def _parenthesized(value: bool | str) -> bool | str:
    return f"({value})" if isinstance(value, str) else value


def _atom(atom: tuple[Any, Any, Any], environment: Mapping[str, frozenset[str]]) -> bool | str:
    from packaging._parser import Variable

    lhs, op, rhs = atom
    text = f"{lhs.serialize()} {op.serialize()} {rhs.serialize()}"
    variables = {node.value for node in (lhs, rhs) if isinstance(node, Variable)}
    if variables & _SELECTION_VARIABLES:
        return Marker(text).evaluate(dict(environment), context="lock_file")
    return text


def _chosen(values: Sequence[str], declared: Collection[str], kind: str) -> frozenset[str]:
    chosen = {str(canonicalize_name(v)) for v in values}
    known = {str(canonicalize_name(d)) for d in declared}
    unknown = sorted(chosen - known)
    if unknown:
        declared_text = ", ".join(sorted(known)) or "none"
        raise InputError(f"undeclared {kind}: {', '.join(unknown)} (the lock declares: {declared_text})")
    return frozenset(chosen)


def _requirement(package: Package, marker: str | None, options: ExportOptions) -> tuple[str, set[str]]:
    """``name==version ; marker`` + hash lines (+ ``# via``), and the find-links folders it needs."""
    name = str(package.name)
    if package.vcs is not None or package.directory is not None:
        kind = "a vcs" if package.vcs is not None else "a directory"
        raise UnsupportedError(
            f"package {name!r} is {kind} source: pip cannot install it by --hash from a requirements file",
            hint="lock it from an index or a wheel/sdist archive, or install with: envlock sync",
        )
    links: set[str] = set()
    if package.archive is not None:
        if package.archive.url is None:
            raise UnsupportedError(
                f"package {name!r} is a local archive ({package.archive.path}): "
                "a requirements file can only name it by URL",
                hint="install with: envlock sync",
            )
        head = f"{name} @ {strip_credentials(package.archive.url)}"
        hashes = [_hash(package.archive.hashes, name)]
    else:
        if package.version is None:
            raise UnsupportedError(
                f"package {name!r} has no version in the lock: pip's --require-hashes needs name==version",
                hint="recompile the lock: envlock compile",
            )
        head = f"{name}=={package.version}"
        files: list[PackageWheel | PackageSdist] = [*(package.wheels or ())]
        if package.sdist is not None:
            files.append(package.sdist)
        hashes = sorted({_hash(file.hashes, name) for file in files})
        for file in files:
            if file.url is None and file.path is not None:
                links.add(_link_folder(file.path, options))
    if marker:
        head += f" ; {marker}"
    lines = [head, *(f"    --hash={h}" for h in hashes)]
    text = " \\\n".join(lines)
    via = _via(package)
    if len(via) == 1:
        text += f"\n    # via {via[0]}"
    elif via:
        text += "\n    # via\n" + "\n".join(f"    #   {v}" for v in via)
    return text, links


def _hash(hashes: Mapping[str, str], name: str) -> str:
    for algorithm in _PIP_HASHES:
        value = hashes.get(algorithm)
        if value:
            return f"{algorithm}:{value.lower()}"
    raise UnsupportedError(
        f"package {name!r} has an artifact without a sha256/sha384/sha512 hash, which pip's --hash needs"
    )


def _link_folder(path: str, options: ExportOptions) -> str:
    folder = PurePosixPath(path.replace("\\", "/")).parent
    if options.lock_dir is None or options.output_dir is None or folder.is_absolute():
        return str(folder)
    relative = os.path.relpath(options.lock_dir / folder, options.output_dir)
    return PurePosixPath(Path(relative).as_posix()).as_posix()


def _via(package: Package) -> list[str]:
    table = (package.tool or {}).get("envlock") or {}
    via = table.get("via") if isinstance(table, Mapping) else None
    if not isinstance(via, list):
        return []
    return sorted(str(v) for v in via)


def _index_lines(lock: Pylock) -> list[str]:
    indexes = _indexes(lock)
    lines = []
    for position, url in enumerate(indexes):
        option = "--index-url" if position == 0 else "--extra-index-url"
        lines.append(f"{option} {strip_credentials(url)}")
    return lines


def _indexes(lock: Pylock) -> list[str]:
    """The lock's indexes in priority order: ``[tool.envlock.options] indexes`` (a compile wrote them),
    else the packages' ``index`` values, sorted."""
    used = {p.index for p in lock.packages if p.index}
    table = (lock.tool or {}).get("envlock") or {}
    options = table.get("options") if isinstance(table, Mapping) else None
    recorded = options.get("indexes") if isinstance(options, Mapping) else None
    ordered: list[str] = []
    if isinstance(recorded, list):
        ordered = [str(i) for i in recorded if isinstance(i, str) and (i in used or not used)]
    ordered.extend(sorted(used - set(ordered)))
    return list(dict.fromkeys(ordered))


def _header(
    lock: Pylock, options: ExportOptions, extras: frozenset[str], groups: frozenset[str]
) -> list[str]:
    lines = [
        f"# This file was exported by envlock from {options.lock_name}; do not edit it by hand.",
        f"# Regenerate: {options.command}",
        "# Install: python -m pip install --require-hashes --no-deps -r <this file>",
        f"# Extras: {', '.join(sorted(extras)) or 'none'}; "
        f"dependency groups: {', '.join(sorted(groups)) or 'none'}",
    ]
    if lock.requires_python is not None:
        lines.append(f"# The lock requires Python {lock.requires_python}")
    for environment in lock.environments or ():
        lines.append(f"# The lock was made for: {environment}")
    lines.append("")
    return lines
