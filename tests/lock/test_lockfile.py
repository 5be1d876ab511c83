"""pylock.toml reading (validated, errors naming the field) and writing (deterministic, atomic)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from envlock.errors import LockFileError
from envlock.lock.lockfile import (
    LockMetadata,
    dump_lock,
    dumps_lock,
    lock_from_dict,
    lock_metadata,
    metadata_to_tool,
    read_lock,
    toml_data,
    write_lock,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HASH = "a" * 64


def lock_dict() -> dict[str, Any]:
    return {
        "lock-version": "1.0",
        "created-by": "envlock",
        "requires-python": ">=3.8",
        "environments": ["sys_platform == 'linux'"],
        "packages": [
            {
                "name": "zeta",
                "version": "2.0",
                "index": "https://pypi.org/simple/",
                "wheels": [
                    {
                        "name": "zeta-2.0-py3-none-any.whl",
                        "url": "https://files.example/zeta-2.0-py3-none-any.whl",
                        "size": 10,
                        "upload-time": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                        "hashes": {"sha256": HASH},
                    }
                ],
                "tool": {"envlock": {"via": ["alpha"]}},
            },
            {
                "name": "alpha",
                "version": "1.0",
                "dependencies": [{"name": "zeta"}],
                "sdist": {
                    "name": "alpha-1.0.tar.gz",
                    "url": "https://files.example/alpha-1.0.tar.gz",
                    "hashes": {"sha256": HASH},
                },
            },
        ],
        "tool": {"envlock": {"fingerprint": "sha256:f", "inputs": ["requirements.in"]}},
    }


def test_round_trip_is_byte_identical(tmp_path: Path) -> None:
    lock = lock_from_dict(lock_dict(), source="test")
    text = dumps_lock(lock)
    assert text.index('name = "alpha"') < text.index('name = "zeta"'), "packages sorted by name"
    assert text.startswith('lock-version = "1.0"\n')
    folder = tmp_path / "project"
    write_lock(folder / "pylock.toml", lock)
    again = read_lock(folder / "pylock.toml")
    assert dumps_lock(again) == text
    assert (folder / "pylock.toml").read_text() == text
    assert [p.name for p in folder.iterdir()] == ["pylock.toml"], "no temporary file left"


def test_output_is_valid_toml_and_pep_751(tmp_path: Path) -> None:
    text = dumps_lock(lock_from_dict(lock_dict(), source="test"))
    data = tomllib.loads(text)
    assert data["packages"][1]["wheels"][0]["upload-time"] == datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc
    )
    assert data["packages"][1]["tool"]["envlock"]["via"] == ["alpha"]


def _every_shape() -> dict[str, Any]:
    """``lock_dict`` with every optional PEP 751 field: extras, groups, markers, vcs, directory, archive,
    attestation identities, a package's own requires-python, tool tables of every TOML kind."""
    data = lock_dict()
    data.update(extras=["cli"], **{"dependency-groups": ["dev"], "default-groups": ["dev"]})
    data["tool"]["envlock"]["settings"] = {"pre": True, "groups": ["dev"], "depth": 3, "ratio": 0.5}
    data["tool"]["other"] = {"when": datetime(2024, 1, 1, tzinfo=timezone.utc), "nested": {"k": [1, 2]}}
    data["packages"] += [
        {
            "name": "gamma",
            "version": "0.1",
            "marker": "python_version >= '3.9'",
            "requires-python": ">=3.9",
            "vcs": {"type": "git", "url": "https://git.example/gamma", "commit-id": "c" * 40},
        },
        {"name": "delta", "directory": {"path": "./delta", "editable": True}},
        {
            "name": "eps",
            "archive": {"url": "https://files.example/eps.zip", "size": 3, "hashes": {"sha256": HASH}},
            "attestation-identities": [{"kind": "GitHub", "repository": "o/r"}],
        },
    ]
    return data


def test_lock_data_is_what_packaging_gives_without_its_deep_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = lock_from_dict(_every_shape(), source="test")
    assert toml_data(lock) == lock.to_dict()
    expected = dumps_lock(lock)
    import dataclasses

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the lock is written without dataclasses.asdict (a deep copy of every value)")

    monkeypatch.setattr(dataclasses, "asdict", refused)
    assert dumps_lock(lock) == expected


def test_the_read_back_of_a_written_lock_is_a_read_of_its_text() -> None:
    lock = lock_from_dict(_every_shape(), source="test")
    dumped = dump_lock(lock)
    read = tomllib.loads(dumped.text)
    assert {k: v for k, v in dumped.read_back.items() if k != "packages"} == {
        k: v for k, v in read.items() if k != "packages"
    }
    assert len(dumped.read_back["packages"]) == len(read["packages"]) == 5
    empty = lock_from_dict({**lock_dict(), "packages": []}, source="test")
    assert dump_lock(empty).read_back == tomllib.loads(dump_lock(empty).text)


def test_metadata() -> None:
    meta = lock_metadata(lock_from_dict(lock_dict(), source="test"))
    assert meta == LockMetadata(fingerprint="sha256:f", inputs=("requirements.in",))
    assert metadata_to_tool(meta) == {"fingerprint": "sha256:f", "inputs": ["requirements.in"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("lock-version"), "missing required field 'lock-version'"),
        (lambda d: d.update({"lock-version": "2.0"}), "unsupported lock-version"),
        (lambda d: d["packages"][0].update({"version": 3}), "packages\\[0\\].version"),
        (lambda d: d["packages"][1].pop("sdist"), "packages\\[1\\]"),
        (
            lambda d: d["packages"][0]["wheels"][0].update({"size": "ten"}),
            "packages\\[0\\].wheels\\[0\\].size",
        ),
    ],
)
def test_invalid_locks_name_the_field(change: Any, message: str) -> None:
    data = lock_dict()
    change(data)
    with pytest.raises(LockFileError, match=message):
        lock_from_dict(data, source="pylock.toml")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(LockFileError, match="lock file not found") as missing:
        read_lock(tmp_path / "pylock.toml")
    assert missing.value.hint == "run: envlock compile"
    (tmp_path / "pylock.toml").write_text("lock-version = \n")
    with pytest.raises(LockFileError, match=r"pylock\.toml: not valid TOML"):
        read_lock(tmp_path / "pylock.toml")
    assert LockFileError("x").exit_code == 2


def test_strings_that_need_escaping_round_trip() -> None:
    data = lock_dict()
    data["environments"] = ["sys_platform == \"linux\" and platform_release != '5.0'"]
    data["packages"][0]["tool"] = {
        "envlock": {"via": ["-r requirements.in", 'näme "quoted"\\']},
        "other": {"note": "a\ttab\nand a line"},  # another tool's table: its strings are its own
    }
    text = dumps_lock(lock_from_dict(data, source="test"))
    parsed = tomllib.loads(text)
    assert parsed["environments"] == ['sys_platform == "linux" and platform_release != "5.0"'], "normalized"
    assert parsed["packages"][1]["tool"] == data["packages"][0]["tool"]


def test_a_string_with_nothing_to_escape_is_quoted_without_the_json_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 500-package lock writes 8,000 strings, nearly all plain ASCII (names, versions, URLs, hashes):
    those are quoted as they are; one with something to escape still goes through JSON's escapes, and
    every string reads back as itself."""
    import json

    from envlock.lock import lockfile
    from tests.kit.counting import count_calls

    plain = ["p0001", "2.0", "https://files.example/a-1.0.tar.gz?x=1&y=%20", HASH, "-r requirements.in: a>=1"]
    escaped = ['"quoted"', "back\\slash", "tab\there", "del\x7f", "näme", "🐍", "line\nfeed", "\x00"]
    counted = count_calls(monkeypatch, json.JSONEncoder, "encode")
    assert [lockfile._string(s) for s in plain] == [f'"{s}"' for s in plain]
    assert counted["encode"] == 0
    for text in plain + escaped:
        assert tomllib.loads(f"k = {lockfile._string(text)}")["k"] == text
    assert counted["encode"] == len(escaped)


def test_the_walk_asks_once_per_class_whether_it_is_a_dataclass(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from envlock.lock import lockfile

    lock = lock_from_dict(_every_shape(), source="test")
    expected = toml_data(lock)
    monkeypatch.setattr(lockfile, "_FIELDS", {})
    asked: list[type] = []
    original = dataclasses.is_dataclass

    def counting(obj: Any) -> bool:
        asked.append(obj)
        return original(obj)

    monkeypatch.setattr(dataclasses, "is_dataclass", counting)
    assert toml_data(lock) == expected and toml_data(lock) == expected
    assert len(asked) == len(set(asked)), asked  # lists, dicts, versions...: each class asked once
