"""lock.fields: every string of a lock's own fields is one line without control characters, and the
fields export and sync pass on are of their kind (issue 26.1)."""

from __future__ import annotations

from typing import Any

import pytest

from envlock.errors import LockFileError
from envlock.lock.lockfile import lock_from_dict

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
