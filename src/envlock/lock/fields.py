"""The kinds of a lock's fields, checked where a lock is read (``lockfile.lock_from_dict``): every string
of the lock that envlock may write out (PEP 751's fields and ``[tool.envlock]``; other tools' ``[tool]``
tables are theirs) is one line without control characters, and the fields export and sync pass on are
what they claim to be: URLs, a git commit id, relative subdirectories, hex digests. Names, versions,
markers and specifiers are parsed by ``packaging.pylock`` itself. See docs/safety.md, "Threat model".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from packaging.pylock import Package, Pylock

from envlock import validate
from envlock.errors import LockFileError

_C0_IN_JSON = ("\\n", "\\r", "\\t", "\\b", "\\f", "\\u00")
"""How ``json.dumps(..., ensure_ascii=False)`` writes a C0 control character: an escape. (An escaped
backslash before ``n`` also matches: the exact walk then finds nothing.)"""
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029]")
"""The rest of ``UNSAFE_TEXT``, which it writes as they are (a character class: one fast scan)."""
_GIT_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_ALGORITHM = re.compile(r"[a-z0-9_-]{1,32}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_HINT = "the lock was edited by hand or is corrupt; recompile it: envlock compile"
TOOL_KEY = "envlock"
"""The lock's ``[tool.envlock]`` table (and each package's): envlock's own data."""


_RAW_BREAKS = ('"""', "'''", "\t")
"""How a TOML text holds a line break or a tab raw in a string: a multi-line string, a raw tab."""


def plain_toml(text: str) -> bool:
    """No string of the TOML ``text`` can hold an ``UNSAFE_TEXT`` character (so ``check_text`` has
    nothing to find): every backslash escapes a quote or a backslash (TOML writes a control character or
    a separator only as an escape: ``\\n``, ``\\u2028``...), no multi-line string or raw tab, and, when
    not ASCII, no raw C1 character or separator (TOML refuses the other control characters raw). A few
    ``count`` scans of the text, much less than walking what it parses to; any doubt (a string ending in
    a backslash, another tool's escapes) leaves the decision to ``check_text``."""
    unpaired = (
        text.replace("\\\\", "") if "\\\\" in text else text
    )  # escaped backslashes, paired as TOML does
    if unpaired.count("\\") != unpaired.count('\\"') or any(mark in text for mark in _RAW_BREAKS):
        return False
    return text.isascii() or _RAW_IN_JSON.search(text) is None


def check_text(data: Mapping[str, Any], source: str) -> None:
    """Refuse any string (or key) of the lock's own fields that holds a control character or a line
    separator, naming where it is. One C-speed ``json.dumps`` of the tree finds whether there is one; the
    tree is walked only then, to name it."""
    own = _own_fields(data)
    try:
        text = json.dumps(own, ensure_ascii=False, default=str, check_circular=False)
    except (TypeError, ValueError, RecursionError):  # not a TOML tree: the walk decides
        text = "\\n"
    raw = "\x7f" in text if text.isascii() else _RAW_IN_JSON.search(text) is not None
    if not raw and not any(escape in text for escape in _C0_IN_JSON):
        return
    found = _first_unsafe(own, ())
    if found is None:
        return
    where, value = found
    raise LockFileError(
        f"{source}: {_where(data, where)} {validate.shown(value)} contains a control character or a "
        "line separator",
        hint=_HINT,
    )


def check_kinds(lock: Pylock, source: str) -> None:
    """Refuse a field that is not of its kind, naming the package: an ``index`` or artifact ``url`` that
    is not one URL, a git ``commit-id`` that is not a full commit id, a ``subdirectory`` that is not a
    relative path inside its source, a digest that is not hex of its algorithm's length."""
    for package in lock.packages:
        try:
            _package_kinds(package)
        except validate.UnsafeInput as error:
            raise LockFileError(f"{source}: package {str(package.name)!r}: {error}", hint=_HINT) from None


def _package_kinds(package: Package) -> None:
    if package.index is not None:
        url(package.index, "index")
    files: list[Any] = [*(package.wheels or ()), *([package.sdist] if package.sdist else [])]
    if package.archive is not None:
        files.append(package.archive)
        if package.archive.subdirectory is not None:
            validate.relative_path(package.archive.subdirectory, "archive subdirectory")
    for file in files:
        if file.url is not None:
            url(file.url, "url")
        for algorithm, value in file.hashes.items():
            if algorithm == "sha256" and isinstance(value, str) and _SHA256.fullmatch(value):
                continue  # the usual case, one regex
            if not isinstance(algorithm, str) or not _ALGORITHM.fullmatch(algorithm):
                raise validate.UnsafeInput(f"hash algorithm {validate.shown(algorithm)} is not a name")
            if algorithm == "sha256":
                validate.sha256(value)
            else:
                validate.digest(algorithm, value)
    vcs = package.vcs
    if vcs is not None:
        if vcs.url is not None and (vcs.url.startswith("-") or _has_space(vcs.url)):
            raise validate.UnsafeInput(f"vcs url {validate.shown(vcs.url)} is not one URL")
        if vcs.type == "git" and not _GIT_COMMIT.fullmatch(vcs.commit_id):
            raise validate.UnsafeInput(
                f"commit-id {validate.shown(vcs.commit_id)} is not a full git commit id"
            )
        if vcs.subdirectory is not None:
            validate.relative_path(vcs.subdirectory, "vcs subdirectory")
    if package.directory is not None and package.directory.subdirectory is not None:
        validate.relative_path(package.directory.subdirectory, "directory subdirectory")


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
"""One URL as a lock holds it: a scheme, then no white space (a regex, not ``urlsplit``: a big lock has
thousands; what a sync fetches is parsed again where it is used)."""


def url(value: str, what: str) -> str:
    """``value`` as one URL: a scheme and no white space (``_URL``)."""
    if not _URL.fullmatch(value):
        raise validate.UnsafeInput(
            f"{what} {validate.shown(value)} is not one URL (a scheme, no white space)"
        )
    return value


def _has_space(value: str) -> bool:
    return any(char.isspace() for char in value)


def _own_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without other tools' ``[tool]`` tables (top level and per package)."""
    own = {key: value for key, value in data.items() if key not in ("tool", "packages")}
    own["tool"] = _envlock_only(data.get("tool"))
    packages = data.get("packages")
    if isinstance(packages, Sequence) and not isinstance(packages, str):
        own["packages"] = [
            {k: (_envlock_only(v) if k == "tool" else v) for k, v in p.items()}
            if isinstance(p, Mapping)
            else p
            for p in packages
        ]
    else:
        own["packages"] = packages
    return own


def _envlock_only(tool: object) -> object:
    if isinstance(tool, Mapping):
        return {TOOL_KEY: tool[TOOL_KEY]} if TOOL_KEY in tool else {}
    return tool


def _first_unsafe(value: object, where: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str] | None:
    if isinstance(value, str):
        return (where, value) if validate.UNSAFE_TEXT.search(value) else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and validate.UNSAFE_TEXT.search(key):
                return (*where, key), key
            found = _first_unsafe(item, (*where, key))
            if found is not None:
                return found
    elif isinstance(value, Sequence):
        for position, item in enumerate(value):
            found = _first_unsafe(item, (*where, position))
            if found is not None:
                return found
    return None


def _where(data: Mapping[str, Any], where: tuple[str | int, ...]) -> str:
    """``package 'name' field tool.envlock.via[0]`` / ``field environments[1]``."""
    rest = where
    prefix = ""
    packages = data.get("packages")
    if (
        len(where) >= 2
        and where[0] == "packages"
        and isinstance(where[1], int)
        and isinstance(packages, Sequence)
    ):
        entry = packages[where[1]]
        name = entry.get("name") if isinstance(entry, Mapping) else None
        prefix = f"package {validate.shown(name) if isinstance(name, str) else f'#{where[1] + 1}'} "
        rest = where[2:]
    path = ""
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"{prefix}field {validate.shown(path)[1:-1] if path else '(a key)'}"
