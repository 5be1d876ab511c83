"""requirements_lock: a hashed requirements file read as a lock (pins + index lookups by hash)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from envlock.errors import LockFileError
from envlock.index.pages import DistFile
from envlock.lock.requirements_lock import RequirementsLock, parse, to_pylock

REQS = Path("/proj/requirements.txt")
A_WHL, A_SDIST, OTHER = "1" * 64, "2" * 64, "3" * 64


def dist(filename: str, sha: str, wheel: bool = True) -> DistFile:
    return DistFile(
        filename=filename,
        url=f"https://files.example/{filename}",
        project=canonicalize_name("a"),
        version=Version("1.0"),
        is_wheel=wheel,
        hashes={"sha256": sha},
        index="https://index.example/simple/",
    )


def lookup(_parsed: RequirementsLock, name: str, version: str) -> list[DistFile]:
    assert (name, version) == ("a", "1.0")
    return [
        dist("a-1.0-py3-none-any.whl", A_WHL),
        dist("a-1.0.tar.gz", A_SDIST, False),
        dist("a-1.0-cp3-x.whl", OTHER),
    ]


def test_parse_pins_options_markers_and_continuations() -> None:
    text = (
        "# comment\n--index-url https://u:p@index.example/simple/\n--extra-index-url=https://extra/simple/\n"
        f"A==1.0 ; python_version >= '3' \\\n    --hash=sha256:{A_WHL} \\\n"
        f"    --hash=sha256:{A_SDIST}  # via b\n"
    )
    parsed = parse(REQS, text)
    assert parsed.index_url == "https://u:p@index.example/simple/"
    assert parsed.extra_index_urls == ("https://extra/simple/",)
    (pin,) = parsed.pins
    assert (pin.name, pin.version, pin.line) == ("a", "1.0", 4)
    assert pin.marker == 'python_version >= "3"'
    assert pin.sha256 == {A_WHL, A_SDIST}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a>=1.0 --hash=sha256:" + "1" * 64,
            "requirements.txt:1: not pinned with == and --hash",
        ),
        ("a==1.0", "requirements.txt:1: not pinned with == and --hash"),
        ("a==1.0 --hash=md5:abc", "only --hash=sha256"),
        ("-r other.txt", "-r is not allowed"),
        ("a=!1", "invalid requirement"),
    ],
)
def test_bad_lines_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(LockFileError, match=message):
        parse(REQS, text)


def test_to_pylock_keeps_only_files_with_listed_hashes() -> None:
    parsed = parse(REQS, f"a==1.0 --hash=sha256:{A_WHL} --hash=sha256:{A_SDIST}\n")
    lock = to_pylock(REQS, parsed, lookup)
    (package,) = lock.packages
    assert [w.name for w in package.wheels or ()] == ["a-1.0-py3-none-any.whl"]
    assert package.sdist is not None and package.sdist.name == "a-1.0.tar.gz"
    assert package.index == "https://index.example/simple/"


def test_no_file_with_the_hash_is_an_error() -> None:
    parsed = parse(REQS, "a==1.0 --hash=sha256:" + "9" * 64)
    with pytest.raises(LockFileError, match=r"requirements.txt:1: no file of a==1\.0"):
        to_pylock(REQS, parsed, lookup)
