"""lock.fields: every string of a lock's own fields is one line without control characters, and the
fields export and sync pass on are of their kind (issue 26.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.errors import LockFileError
from envlock.lock.fields import plain_toml
from envlock.lock.lockfile import lock_from_dict, read_lock
from envlock.tomlshim import tomllib
from envlock.validate import UNSAFE_TEXT

SHA = "a" * 64


def lock(**package: Any) -> dict[str, Any]:
    entry = {
        "name": "alpha",
        "version": "1.0",
        "wheels": [{"url": "https://x/alpha-1.0-py3-none-any.whl", "hashes": {"sha256": SHA}}],
    }
    entry.update(package)
    return {"lock-version": "1.0", "created-by": "t", "packages": [entry]}


@pytest.mark.parametrize("character", ["\n", "\r", "\t", "\x00", "\x1c", "\x7f", "\x85", "\u2028", "\u2029"])
def test_a_control_character_or_separator_anywhere_is_refused_naming_the_field(character: str) -> None:
    data = lock(tool={"envlock": {"via": ["ok", f"a{character}b"]}})
    with pytest.raises(LockFileError, match=r"^p\.toml: package 'alpha' field tool\.envlock\.via\[1\] 'a\\"):
        lock_from_dict(data, source="p.toml")
    data = {**lock(), "environments": [f'sys_platform == "{character}"']}
    with pytest.raises(LockFileError, match=r"field environments\[0\]"):
        lock_from_dict(data, source="p.toml")


def test_other_tools_tables_and_plain_unicode_are_theirs() -> None:
    data = lock(tool={"other": {"note": "two\nlines"}, "envlock": {"via": ['näme "quoted" ✓']}})
    data["tool"] = {"other": {"x": "\u2028"}}
    assert lock_from_dict(data, source="p.toml").packages[0].name == "alpha"


@pytest.mark.parametrize(
    ("package", "needle"),
    [
        ({"index": "https://pypi.org/simple --index-url http://evil/"}, "not one URL"),
        ({"index": "no-scheme"}, "not one URL"),
        (
            {"wheels": [{"url": "https://x/a b/alpha-1.0-py3-none-any.whl", "hashes": {"sha256": SHA}}]},
            "not one URL",
        ),
        (
            {"wheels": [{"url": "https://x/alpha-1.0-py3-none-any.whl", "hashes": {"sha256": "abc"}}]},
            "not 64 hex digits",
        ),
        ({"wheels": [{"url": "https://x/alpha-1.0-py3-none-any.whl", "hashes": {"sha512": "ab"}}]}, "128"),
        (
            {"wheels": [{"url": "https://x/alpha-1.0-py3-none-any.whl", "hashes": {"Sha 256": SHA}}]},
            "not a name",
        ),
        ({"vcs": {"type": "git", "url": "https://h/r", "commit-id": "main"}}, "not a full git commit id"),
        ({"vcs": {"type": "git", "url": "-uhttps://h/r", "commit-id": "b" * 40}}, "not one URL"),
        (
            {"vcs": {"type": "git", "url": "https://h/r", "commit-id": "b" * 40, "subdirectory": "../x"}},
            "climbs",
        ),
        ({"directory": {"path": "p", "subdirectory": "/etc"}}, "absolute"),
    ],
)
def test_a_field_not_of_its_kind_is_refused_naming_the_package(package: dict[str, Any], needle: str) -> None:
    data = lock(**package)
    if "vcs" in package or "directory" in package:
        del data["packages"][0]["wheels"], data["packages"][0]["version"]
    with pytest.raises(LockFileError, match="package 'alpha'") as caught:
        lock_from_dict(data, source="p.toml")
    assert needle in str(caught.value)


@pytest.mark.parametrize("raw", ["\u2028", "\x85", "\u2029"])
def test_a_raw_separator_in_the_lock_text_is_refused(tmp_path: Path, raw: str) -> None:
    """TOML takes these characters raw in a string (no escape): the text's quick look must see them."""
    path = tmp_path / "pylock.toml"
    path.write_text(
        f'lock-version = "1.0"\ncreated-by = "t"\n\n[[packages]]\nname = "alpha"\nversion = "1.0"\n'
        f'index = "https://x/simple"\n\n[packages.tool.envlock]\nvia = ["a{raw}b"]\n',
        encoding="utf-8",
    )
    with pytest.raises(LockFileError, match=r"field tool\.envlock\.via\[0\]"):
        read_lock(path)
    assert not plain_toml(path.read_text(encoding="utf-8"))
    assert plain_toml(path.read_text(encoding="utf-8").replace(raw, "é"))


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ('a = "x \\"q\\" y"\n', True),
        ('a = "x\\\\"\n', True),
        ('a = "x\\\\\\ny"\n', False),  # an escaped backslash, then \n
        ('a = "x\\u2028"\n', False),
        ('a = """x\ny"""\n', False),
        ("a = 'x\\ny'\n", False),  # a literal string: no control character, but a doubt all the same
        ('a = "x\ty"\n', False),
    ],
)
def test_the_quick_look_at_the_text_never_misses_an_escape(text: str, plain: bool) -> None:
    assert plain_toml(text) is plain


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(body=st.text(alphabet=st.sampled_from(list("\\\"'nuU2028x0a1b\t\n\u2028\x85 ")), max_size=12))
def test_a_text_the_quick_look_calls_plain_parses_to_plain_strings(body: str) -> None:
    """The quick look is a memo of the full check: whenever it says plain, the parsed strings are."""
    text = f"a = \"{body}\"\nb = '{body}'\n"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    if plain_toml(text):
        assert not any(UNSAFE_TEXT.search(value) for value in data.values()), data
