"""Pure: a PEP 751 lock + chosen extras/groups -> a hashed pip requirements file (``envlock export``).

Every entry becomes ``name==version ; marker`` with one ``--hash`` per artifact of that entry, so
``pip install --require-hashes --no-deps -r FILE`` installs what ``envlock sync`` installs. A project
folder becomes ``-e ./path`` / ``./path`` and a git package ``name @ git+URL@COMMIT``, without hashes
(pip has none for them, and refuses them in hash-checking mode: docs/migrating-from-pip-tools.md). PEP 751
package markers may test ``extras`` and ``dependency_groups``, which pip does not know: those tests are
evaluated away for the chosen extras/groups (an entry whose marker is then false is left out, the rest
of its marker is kept for pip to evaluate at install time). See docs/migrating-from-pip-tools.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
from packaging.utils import canonicalize_name

from envlock import validate
from envlock.errors import InputError, LockFileError, UnsupportedError
from envlock.models.source import public_url
from envlock.validate import strip_credentials

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
    chosen: dict[str, list[bool | str]] = {}
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
        _refuse_duplicate(chosen, str(package.name), marker)
        requirement, links = _requirement(package, None if marker is True else marker, options)
        find_links.update(links)
        entries.append((str(package.name), str(package.version or ""), requirement))
    lines = _header(lock, options, extras, groups)
    if options.emit_index_url:
        lines.extend(_index_lines(lock, options.lock_name))
    lines.extend(f"--find-links {link}" for link in sorted(find_links))  # each checked by _requirement
    if len(lines) > 0 and lines[-1] != "":
        lines.append("")
    lines.extend(requirement for _name, _version, requirement in sorted(entries))
    return "\n".join(lines) + "\n"


_PIP_VARIABLE = re.compile(r"\$\{[A-Z0-9_]+\}")
"""What pip replaces with an environment variable's value in a requirements file (a secret, sent to a
server named in the same URL)."""


def one_requirement(line: str, name: str) -> str:
    """``line`` when pip reads it as exactly the one requirement it spells, else a LockFileError naming
    the package. pip splits a requirements file at every ``str.splitlines`` separator, cuts comments at
    white space + ``#``, takes the first word starting with ``-`` and all after it as options
    (``--index-url``, ``-r``, ``--hash``: an option injected into a URL or a marker's quoted string),
    expands ``${VAR}``, and joins a line ending in a backslash with the next. The lock's reader refused
    control characters already (``lock.fields``); this is the last look at what is written."""
    words = line.split(" ")
    leading = 1 if words[0] == "-e" else 0
    problem = (
        "is not one printable line"
        if not line.isprintable()
        else "has a word pip would read as an option"
        if any(word.startswith("-") for word in words[leading:])
        else "has a comment"
        if re.search(r"(?:^|\s)#", line)
        else "names an environment variable"
        if _PIP_VARIABLE.search(line)
        else "ends in a backslash"
        if line.endswith("\\")
        else None
    )
    if problem is not None:
        raise LockFileError(
            f"package {name!r}: its requirement {validate.shown(line)} {problem}; it cannot be exported "
            "safely",
            hint="the lock was edited by hand or is corrupt; recompile it: envlock compile",
        )
    return line


def _one_word(option: str, value: str, where: str) -> str:
    """``value`` of ``--index-url VALUE`` / ``--find-links VALUE`` when it is one word (no white space,
    no leading ``-`` or ``#``, no ``${VAR}``), else a LockFileError naming ``where`` it came from."""
    if (
        not value
        or not value.isprintable()
        or any(char.isspace() for char in value)
        or value.startswith(("-", "#"))
        or _PIP_VARIABLE.search(value)
        or value.endswith("\\")
    ):
        raise LockFileError(
            f"{where}: {option} {validate.shown(value)} is not one word pip reads as its value",
            hint="the lock was edited by hand or is corrupt; recompile it: envlock compile",
        )
    return value


def _refuse_duplicate(chosen: dict[str, list[bool | str]], name: str, marker: bool | str) -> None:
    """Record that ``name`` is exported under ``marker``; a LockFileError when an entry already exported
    for that name can apply together with it (either has no marker, or both have the same one): pip
    refuses such a file ("Double requirement given"), or installs whichever it reads first.
    Entries of one name with different markers (``python_version < "3.10"`` / ``>= "3.10"``) are
    PEP 751's way to lock per environment, and are kept."""
    key = str(canonicalize_name(name))
    earlier = chosen.setdefault(key, [])
    if any(m is True or marker is True or m == marker for m in earlier):
        where = "without a marker" if marker is True else f"for {marker}"
        raise LockFileError(
            f"package {key!r} is selected twice {where}: the exported file would list it twice",
            hint="the lock was edited by hand or is corrupt; recompile it: envlock compile",
        )
    earlier.append(marker)


def residual_marker(marker: Marker | None, *, extras: Collection[str], groups: Collection[str]) -> bool | str:
    """``marker`` with every test of ``extras`` / ``dependency_groups`` / ``extra`` replaced by its value
    for the chosen extras/groups: True (always applies), False (never), or the remaining marker text
    (environment tests only, which pip evaluates).

    packaging has no public partial evaluation and calls its parsed tree private, so this works on the
    marker's public serialization (``str(marker)``, PEP 508 grammar): it is split into comparisons
    joined by ``and`` / ``or`` / parentheses, each comparison that tests a selection variable is
    evaluated with ``Marker(...).evaluate(..., context="lock_file")``, and the rest is kept as text."""
    if marker is None:
        return True
    environment = {
        "extras": frozenset(str(canonicalize_name(e)) for e in extras),
        "dependency_groups": frozenset(str(canonicalize_name(g)) for g in groups),
        "extra": frozenset(str(canonicalize_name(e)) for e in extras),
    }
    tokens = _MARKER_TOKEN.findall(str(marker))
    tree, end = _parse_or(tokens, 0)
    if end != len(tokens):
        raise LockFileError(f"cannot split the marker {str(marker)!r} into comparisons")
    result = _residual(tree, environment)
    if isinstance(result, bool):
        return result
    return str(Marker(result[0]))


_MARKER_TOKEN = re.compile(r"""\(|\)|"[^"]*"|'[^']*'|[^\s()"']+""")
"""Tokens of a serialized marker: parentheses, quoted strings, and bare words (names, operators)."""

_Node = tuple[str, Any]
"""("atom", "lhs op rhs") | ("and", [nodes]) | ("or", [nodes])."""


def _parse_or(tokens: Sequence[str], position: int) -> tuple[_Node, int]:
    terms = []
    node, position = _parse_and(tokens, position)
    terms.append(node)
    while position < len(tokens) and tokens[position] == "or":
        node, position = _parse_and(tokens, position + 1)
        terms.append(node)
    return (("or", terms) if len(terms) > 1 else terms[0]), position


def _parse_and(tokens: Sequence[str], position: int) -> tuple[_Node, int]:
    terms = []
    node, position = _parse_term(tokens, position)
    terms.append(node)
    while position < len(tokens) and tokens[position] == "and":
        node, position = _parse_term(tokens, position + 1)
        terms.append(node)
    return (("and", terms) if len(terms) > 1 else terms[0]), position


def _parse_term(tokens: Sequence[str], position: int) -> tuple[_Node, int]:
    if position < len(tokens) and tokens[position] == "(":
        node, position = _parse_or(tokens, position + 1)
        if position >= len(tokens) or tokens[position] != ")":
            raise LockFileError("unbalanced parentheses in a marker")
        return node, position + 1
    words = []
    while position < len(tokens) and tokens[position] not in ("and", "or", "(", ")"):
        words.append(tokens[position])
        position += 1
    if not words:
        raise LockFileError("a marker has an empty comparison")
    return ("atom", words), position


def _residual(node: _Node, environment: Mapping[str, frozenset[str]]) -> bool | tuple[str, bool]:
    """True / False, or (text, is_an_or) for what pip still has to evaluate."""
    kind, value = node
    if kind == "atom":
        text = " ".join(value)
        if any(word in _SELECTION_VARIABLES for word in value):  # bare words only: quotes stay attached
            return Marker(text).evaluate(dict(environment), context="lock_file")
        return text, False
    parts = [_residual(child, environment) for child in value]
    if kind == "and":
        if any(part is False for part in parts):
            return False
        kept = [part for part in parts if not isinstance(part, bool)]
        if not kept:
            return True
        texts = [f"({text})" if is_or else text for text, is_or in kept]
        return " and ".join(texts), False
    if any(part is True for part in parts):
        return True
    alternatives = [part for part in parts if not isinstance(part, bool)]
    if not alternatives:
        return False
    return " or ".join(text for text, _is_or in alternatives), len(alternatives) > 1


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
    links: set[str] = set()
    hashes: list[str] = []
    if package.vcs is not None or package.directory is not None:
        head = _source_head(package, options)  # pip has no hash for a folder or a repository
    elif package.archive is not None:
        if package.archive.url is None:
            head = _local(package.archive.path or "", options, name)
        else:
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
                links.add(_one_word("--find-links", _link_folder(file.path, options), f"package {name!r}"))
    if marker:
        head += f" ; {marker}"
    one_requirement(head, name)
    lines = [head, *(f"    --hash={h}" for h in hashes)]
    text = " \\\n".join(lines)
    via = _via(package)
    for value in via:
        if not value.isprintable():  # one comment line each (the lock's reader refused line breaks)
            raise LockFileError(f"package {name!r}: via {validate.shown(value)} is not one printable line")
    if len(via) == 1:
        text += f"\n    # via {via[0]}"
    elif via:
        text += "\n    # via\n" + "\n".join(f"    #   {v}" for v in via)
    return text, links


def _source_head(package: Package, options: ExportOptions) -> str:
    """A project folder as pip reads it (``-e ./path``, ``./path``: relative to the output's folder,
    where pip is run from), a git package as ``name @ git+URL@COMMIT#subdirectory=``."""
    if package.directory is not None:
        path = _local(package.directory.path, options, str(package.name))
        return f"-e {path}" if package.directory.editable else path
    vcs = package.vcs
    assert vcs is not None  # the caller checked
    if vcs.type != "git" or not vcs.url or vcs.url.startswith("-") or not vcs.commit_id:
        raise UnsupportedError(
            f"package {str(package.name)!r}: only git packages with a commit can be exported"
        )
    head = f"{package.name} @ git+{public_url(vcs.url)}@{vcs.commit_id}"
    return head + (f"#subdirectory={vcs.subdirectory}" if vcs.subdirectory else "")


def _local(path: str, options: ExportOptions, name: str) -> str:
    """A lock's relative ``path`` as a path relative to the output's folder, starting with ``./`` or
    ``../`` (so pip reads it as a path, not a project name)."""
    posix = path.replace("\\", "/")
    if (
        options.lock_dir is not None
        and options.output_dir is not None
        and not PurePosixPath(posix).is_absolute()
    ):
        posix = Path(os.path.relpath(options.lock_dir / posix, options.output_dir)).as_posix()
    local = posix if posix in (".", "..") or posix.startswith(("/", "./", "../")) else f"./{posix}"
    if not local.isprintable() or any(char.isspace() or char in ";'\"\\" for char in local):
        # pip reads a path up to white space or ``;`` (its marker), and ``-e``'s through shlex
        raise LockFileError(
            f"package {name!r}: the path {validate.shown(path)} cannot be written for pip as one word "
            "(white space, a quote, a backslash or ';')",
            hint="rename the folder, or install it apart: envlock sync",
        )
    return local


def _hash(hashes: Mapping[str, str], name: str) -> str:
    checked = dict(_check_digests(hashes, name))
    for algorithm in _PIP_HASHES:
        value = checked.get(algorithm)
        if value:
            return f"{algorithm}:{value}"
    raise UnsupportedError(
        f"package {name!r} has an artifact without a sha256/sha384/sha512 hash, which pip's --hash needs"
    )


def _check_digests(hashes: Mapping[str, str], name: str) -> list[tuple[str, str]]:
    """Every (algorithm, digest) of an artifact, digests lower-cased; a digest that is not hex of its
    algorithm's length (sha256: 64 digits) is a LockFileError naming the package: an exported file is
    installed by others (pip, Docker builds), and a digest is all that vouches for the artifact."""
    checked = []
    for algorithm, value in sorted(hashes.items()):
        try:
            checked.append((algorithm, validate.digest(algorithm, value)))
        except validate.UnsafeInput as error:
            raise LockFileError(
                f"package {name!r}: {error}",
                hint="the lock was edited by hand or is corrupt; recompile it: envlock compile",
            ) from None
    return checked


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


def _index_lines(lock: Pylock, lock_name: str) -> list[str]:
    indexes = _indexes(lock)
    lines = []
    for position, url in enumerate(indexes):
        option = "--index-url" if position == 0 else "--extra-index-url"
        lines.append(f"{option} {_one_word(option, strip_credentials(url), _printable(lock_name))}")
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
        f"# This file was exported by envlock from {_printable(options.lock_name)}; do not edit it by hand.",
        f"# Regenerate: {_printable(options.command)}",
        "# Install: python -m pip install --require-hashes --no-deps -r <this file>",
        f"# Extras: {', '.join(sorted(extras)) or 'none'}; "
        f"dependency groups: {', '.join(sorted(groups)) or 'none'}",
    ]
    if any(p.vcs is not None or p.directory is not None for p in lock.packages):
        lines.append("# Folders and git packages have no hash, and pip refuses them with --require-hashes:")
        lines.append("# install those with envlock sync, or pip install them apart (--no-deps)")
    if lock.requires_python is not None:
        lines.append(f"# The lock requires Python {lock.requires_python}")
    for environment in lock.environments or ():
        lines.append(f"# The lock was made for: {environment}")
    lines.append("")
    return lines


def _printable(text: str) -> str:
    """``text`` with every character that is not printable (a line break above all) escaped: for the
    header's comments, which repeat the command line's words."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
