"""The lock header reader against the full TOML parse and the full lock reader: on the repository's locks,
on generated locks spelled every way TOML allows (escapes only TOML has, literal and multi-line strings,
quoted keys, inline tables, comments, CRLF, U+2028, deep nesting) and on damaged ones. The scan gives the
full parse's answer or declines; the reader never raises anything but LockHeaderError."""

from __future__ import annotations

import contextlib
import json
import os
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from envlock.lock.lockfile import lock_metadata, read_lock
from envlock.runtime import lock_header
from envlock.runtime.lock_header import LockHeaderError, mentions, read_header, scan_header
from envlock.tomlshim import tomllib

ROOT = Path(__file__).parents[2]
EXAMPLES = int(os.environ.get("ENVLOCK_HEADER_EXAMPLES", "200"))
"""Examples per property (a longer search: ENVLOCK_HEADER_EXAMPLES=4000; 4,000 each found no disagreement)."""
LOCKS = [ROOT / "pylock.toml", *sorted((ROOT / "examples").rglob("pylock*.toml"))]


def full(text: str) -> lock_header.LockHeader:
    """The header as the whole-document TOML parse gives it."""
    return lock_header._header_from(tomllib.loads(text), "-")


def scanned(text: str) -> lock_header.LockHeader | None:
    document = scan_header(text)
    return None if document is None else lock_header._header_from(document, "-")


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_repository_locks_are_scanned_as_the_full_reader_reads_them(path: Path) -> None:
    data = path.read_bytes()
    header = read_header(data)
    assert scanned(data.decode()) == full(data.decode())  # answered by the scan, not the fallback
    crlf = data.decode().replace("\n", "\r\n")  # a checkout on Windows
    assert scanned(crlf) == full(crlf)
    lock = read_lock(path)
    assert [(p.name, p.version, p.marker) for p in header.packages] == [
        (str(p.name), str(p.version) if p.version else None, str(p.marker) if p.marker else None)
        for p in lock.packages
    ]
    meta = lock_metadata(lock)
    assert (header.fingerprint, header.inputs, header.settings) == (
        meta.fingerprint,
        meta.inputs,
        meta.settings,
    )
    assert header.default_groups == tuple(lock.default_groups or ())


def test_toml_only_escapes_are_read_as_toml() -> None:
    text = (
        '"default\\u002Dgroups" = ["d\\U00000065v"]\n'
        "[[packages]]\n"
        'name = "pr\\U0000006Fj"\n'
        'directory = {path = "pr\\U0000006Fj\\u2028", editable = true}\n'
        "[tool.envlock]\n"
        "fingerprint = 'sha256:\\x'  # a literal string keeps its backslash\n"
    )
    header = read_header(text.encode())
    assert header.default_groups == ("dev",)
    (entry,) = header.packages
    assert (entry.name, entry.directory, entry.editable, entry.source) == (
        "proj",
        "proj\u2028",
        True,
        "directory",
    )
    assert header.fingerprint == "sha256:\\x"
    assert scanned(text) is None  # the quoted key: the whole document is parsed
    assert scanned(text.replace('"default\\u002Dgroups"', "default-groups")) == header.__class__(
        "-", header.fingerprint, (), None, ("dev",), header.packages
    )


def test_mentions_is_certain_when_it_says_no() -> None:
    assert not mentions(b'name = "a"\nmarker = "b \\"c\\""\n', "default-groups")
    assert mentions(b'"default\\u002dgroups" = []', "default-groups")
    assert mentions(b"default-groups = []", "default-groups")


def test_what_is_no_toml_is_a_lock_header_error() -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    for data in (b"\xff", b"default-groups = [", b"default-groups = " + deep, b'default-groups = ["\x01"]'):
        with pytest.raises(LockHeaderError):
            read_header(data)


# --- generated locks ----------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(
        [*string.ascii_letters, *"0123456789 -_.[]{}#=,'\"\\/\t", "\u2028", "é", "😀", "\x7f"]
    ),
    max_size=12,
)


@st.composite
def toml_string(draw: st.DrawFn, value: str, wild: bool) -> str:
    """``value`` spelled as TOML: a basic string with escapes drawn per character, a literal string, or
    (``wild``) a multi-line one."""
    literal = not any(c in value for c in "'\n\x7f") and all(c == "\t" or c >= " " for c in value)
    forms = ["basic", "basic", "literal"] if literal else ["basic"]
    form = draw(st.sampled_from([*forms, "multiline"] if wild else forms))
    if form == "literal":
        return f"'{value}'"
    out = []
    for char in value:
        must = char in '"\\' or (char < " " and char != "\t") or char == "\x7f"
        how = draw(st.sampled_from(["raw", "u", "U"])) if not must else draw(st.sampled_from(["u", "U"]))
        if how == "raw":
            out.append(char)
        elif how == "u" and ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(f"\\U{ord(char):08X}")
    quote = '"""' if form == "multiline" else '"'
    return quote + "".join(out) + quote


@st.composite
def toml_value(draw: st.DrawFn, value: Any, wild: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return draw(toml_string(value, wild))
    if isinstance(value, list):
        items = [draw(toml_value(item, wild)) for item in value]
        if draw(st.booleans()) and items:  # one item a line, comments between
            comment = draw(st.sampled_from(["", "  # a ] comment", " # it's ["]))
            return "[" + comment + "\n" + "".join(f"    {item},\n" for item in items) + "]"
        return "[" + ", ".join(items) + "]"
    assert isinstance(value, dict)
    pairs = [f"{draw(toml_key(k, wild))} = {draw(toml_value(v, wild))}" for k, v in value.items()]
    return "{" + ", ".join(pairs) + "}"


@st.composite
def toml_key(draw: st.DrawFn, key: str, wild: bool) -> str:
    if wild and draw(st.integers(0, 4)) == 0:
        body = draw(toml_string(key, wild))
        return body if not body.startswith(('"""', "'''")) else json.dumps(key)
    return key


_SCALAR = st.one_of(
    _TEXT, st.integers(-5, 10**6), st.booleans(), st.floats(allow_nan=False, allow_infinity=False)
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=2)
    ),
    max_leaves=6,
)
_PACKAGE = st.fixed_dictionaries(
    {"name": _TEXT},
    optional={
        "version": _TEXT,
        "marker": _TEXT,
        "directory": st.fixed_dictionaries({"path": _TEXT}, optional={"editable": st.booleans()}),
        "vcs": st.fixed_dictionaries({"url": _TEXT}),
        "wheels": st.lists(st.fixed_dictionaries({"name": _TEXT, "size": st.integers(0, 99)}), max_size=3),
        "dependencies": st.lists(st.fixed_dictionaries({"name": _TEXT}), max_size=3),
        "extra": _VALUE,
    },
)
_DOCUMENT = st.fixed_dictionaries(
    {"lock-version": st.just("1.0"), "packages": st.lists(_PACKAGE, max_size=3)},
    optional={
        "default-groups": st.lists(_TEXT, max_size=3),
        "environments": st.lists(_TEXT, max_size=2),
        "tool": st.fixed_dictionaries(
            {},
            optional={
                "envlock": st.fixed_dictionaries(
                    {},
                    optional={
                        "fingerprint": _TEXT,
                        "inputs": st.lists(_TEXT, max_size=2),
                        "settings": st.dictionaries(
                            st.sampled_from(["sources", "pre", "target", "exclude-newer"]), _VALUE, max_size=3
                        ),
                        "options": st.dictionaries(st.sampled_from(["a", "b"]), _VALUE, max_size=2),
                    },
                ),
                "other": st.dictionaries(st.sampled_from(["x", "y"]), _VALUE, max_size=2),
            },
        ),
    },
)


@st.composite
def render(draw: st.DrawFn, document: dict[str, Any]) -> str:
    """``document`` as TOML, spelled the ways TOML allows: escapes, literal strings, comments, blank lines,
    inline tables, multi-line arrays, CRLF, and in a ``wild`` document also multi-line strings, quoted
    keys, tables as headers and indentation (which the scan declines)."""
    wild = draw(st.booleans())
    lines: list[str] = []

    def blank() -> None:
        lines.extend(draw(st.sampled_from([[], [""], ['# a comment [x] "y'], ["  ", "   # ]"]])))

    def table(path: list[str], values: dict[str, Any]) -> None:
        header = ("packages", "tool") if wild else ("tool",)
        inline = {
            k: v
            for k, v in values.items()
            if not (isinstance(v, dict) and path[:1] in [[h] for h in header]) or draw(st.booleans())
        }
        for key, value in inline.items():
            indent = draw(st.sampled_from(["", "", "  "] if wild else [""]))
            tail = draw(st.sampled_from(["", "", " # ok ] {", "\t"]))
            lines.append(f"{indent}{draw(toml_key(key, wild))} = {draw(toml_value(value, wild))}{tail}")
            blank()
        for key, value in values.items():
            if key not in inline:
                lines.append("[" + ".".join([*path, draw(toml_key(key, wild))]) + "]")
                table([*path, key], value)

    root = {k: v for k, v in document.items() if k not in ("packages", "tool")}
    table([], root)
    for package in document["packages"]:
        blank()
        lines.append(
            draw(
                st.sampled_from(
                    ["[[packages]]", "[[ packages ]]", '[["packages"]]'] if wild else ["[[packages]]"]
                )
            )
        )
        extra = package.get("extra")
        table(["packages"], {k: v for k, v in package.items() if k != "extra"})
        if extra is not None:
            lines.append("[packages.tool]")
            table(["packages", "tool"], {"extra": extra})
    if "tool" in document:
        lines.append("[tool]")
        table(["tool"], document["tool"])
    text = "\n".join(lines) + "\n"
    return text.replace("\n", "\r\n") if draw(st.integers(0, 3)) == 0 else text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_locks_read_as_the_full_parse_reads_them(data: st.DataObject) -> None:
    text = data.draw(render(data.draw(_DOCUMENT)))
    expected = full(text)  # the generator writes valid TOML
    found = scanned(text)
    event("scanned" if found is not None else "declined")
    assert found is None or found == expected
    header = read_header(text.encode())
    assert header.packages == expected.packages and header.settings == expected.settings
    assert (header.fingerprint, header.inputs, header.default_groups) == (
        expected.fingerprint,
        expected.inputs,
        expected.default_groups,
    )
    if "default-groups" in tomllib.loads(text):
        assert mentions(text.encode(), "default-groups")


_NOISE = st.sampled_from(
    [*"[]{}\"'#=,\\ \n\t.u", "\r\n", '"""', "\\U0000006F", "[[packages]]\n", "\n]", "\n]\n", "\n# c\n", "  "]
)
"""Damage: the characters that shape TOML, and lines that open, close or comment."""


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_locks_give_the_full_parse_answer_or_decline(data: st.DataObject) -> None:
    text = data.draw(render(data.draw(_DOCUMENT)))
    for _ in range(data.draw(st.integers(1, 2))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 2))
        text = text[:at] + data.draw(_NOISE) + text[at + cut :]
    found = scanned(text)  # never raises
    try:
        expected = full(text)
    except tomllib.TOMLDecodeError:  # the full path refuses it; the reader answers or says why, no crash
        event("invalid TOML")
        with contextlib.suppress(LockHeaderError):
            read_header(text.encode())
        return
    event("valid, scanned" if found is not None else "valid, declined")
    assert found is None or found == expected


# --- locks as envlock writes them: always scanned, read as packaging.pylock reads them ------------------

_WORD = st.text(
    alphabet=st.sampled_from([*string.ascii_letters, *"0123456789 -_./\\\"'#[]{}=é😀\t"]), max_size=10
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=_WORD.filter(bool),
    editable=st.booleans(),
    fingerprint=_WORD,
    inputs=st.lists(_WORD, max_size=2),
    groups=st.lists(st.sampled_from(["dev", "test", "docs"]), max_size=2, unique=True),
    settings_=st.dictionaries(
        st.sampled_from(["sources", "pre", "exclude-newer"]), st.one_of(_WORD, st.booleans())
    ),
)
def test_locks_envlock_writes_are_scanned_as_packaging_reads_them(
    path: str,
    editable: bool,
    fingerprint: str,
    inputs: list[str],
    groups: list[str],
    settings_: dict[str, Any],
) -> None:
    from envlock.errors import LockFileError
    from envlock.lock.lockfile import dumps_lock, loads_lock, lock_from_dict

    sha = "0" * 64
    data = {
        "lock-version": "1.0",
        "created-by": "envlock",
        "dependency-groups": groups,
        "default-groups": groups,
        "packages": [
            {"name": "proj", "version": "1.0", "directory": {"path": path, "editable": editable}},
            {
                "name": "gitdep",
                "marker": 'python_version >= "3.8"',
                "vcs": {"type": "git", "url": "https://h/r.git", "commit-id": "a" * 40},
            },
            {
                "name": "arch",
                "version": "2.0",
                "archive": {"url": "https://h/a.tar.gz", "hashes": {"sha256": sha}},
            },
            {
                "name": "wheel-only",
                "version": "3.0",
                "wheels": [
                    {
                        "name": "wheel_only-3.0-py3-none-any.whl",
                        "url": "https://h/w.whl",
                        "hashes": {"sha256": sha},
                    }
                ],
                "tool": {"envlock": {"via": ["-r requirements.in"]}},
            },
        ],
        "tool": {"envlock": {"fingerprint": fingerprint, "inputs": inputs, "settings": settings_}},
    }
    try:
        lock = lock_from_dict(data, source="pylock.toml")
    except LockFileError:  # a field the full reader refuses (a control character in a path)
        event("refused by the full reader")
        return
    event("written")
    text = dumps_lock(lock)
    assert scan_header(text) is not None  # what envlock writes, the scan reads without the TOML parser
    header = read_header(text.encode())
    lock = loads_lock(text, source="pylock.toml")  # the full reader, on the same bytes
    assert [(e.name, e.version, e.marker, e.source) for e in header.packages] == [
        (
            str(p.name),
            str(p.version) if p.version else None,
            str(p.marker) if p.marker else None,
            "directory" if p.directory else "vcs" if p.vcs else "archive" if p.archive else "index",
        )
        for p in lock.packages
    ]
    (project,) = [e for e in header.packages if e.source == "directory"]
    assert (project.directory, project.editable) == (path, editable)
    meta = lock_metadata(lock)
    assert (header.fingerprint, header.inputs, header.settings or {}) == (
        meta.fingerprint,
        meta.inputs,
        meta.settings,
    )
    assert header.default_groups == tuple(lock.default_groups or ())
