"""Fuzz tests (issue #10): whatever a lock file, a requirements file or an index page says, envlock answers
with a result or an ``EnvlockError``, never another exception; and what it returns passed the validation
boundary (``envlock.validate``): sha256 values are 64 lowercase hex digits, file names have no folder part,
URLs from a server are http(s).

Bounded and reproducible for CI: every test has a fixed number of examples, no deadline, derandomized
generation and no example database (nothing is written into the repository). ``ENVLOCK_FUZZ_EXAMPLES``
raises the number of examples per test for a longer local run.

The strategies generate data close to the real formats (PEP 751 locks, pip requirements syntax, PEP 691
JSON and PEP 503 HTML pages, core metadata), with wrong types, hostile values and random text mixed in.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker

from envlock.env.interpreter import TargetEnvironment, current_environment, environment_for_version
from envlock.errors import EnvlockError, NetworkError
from envlock.index import metadata as index
from envlock.index import pages
from envlock.index.pages import DistFile
from envlock.inputs import config, requirements_file
from envlock.lock import requirements_lock
from envlock.lock.export import ExportOptions, export_requirements
from envlock.lock.lockfile import dumps_lock, lock_from_dict, lock_metadata, read_lock
from envlock.lock.selection import SelectionOptions, select
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex

T = TypeVar("T")

EXAMPLES = int(os.environ.get("ENVLOCK_FUZZ_EXAMPLES", "0")) or None

FUZZ = settings(
    max_examples=EXAMPLES or 150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the plugin's autouse `isolated`; each example writes anew
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FEW = settings(FUZZ, max_examples=EXAMPLES or 60)

SHA256 = re.compile(r"[0-9a-f]{64}")
HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class KnownCrash:
    """A crash the fuzzer found in a module this file's author does not own, reported to its owner.

    ``outcome`` tolerates it (so the fuzz tests keep guarding everything else) and
    ``test_known_crash_still_crashes`` replays its minimal inputs as a strict xfail: once the owner fixes
    it those XPASS and fail, and deleting the entry from KNOWN_CRASHES removes both the xfail and the
    tolerance."""

    key: str
    where: tuple[str, ...]
    """``module.py:function`` of envlock whose call raised it (the innermost envlock frame); () for any."""
    exception: type[BaseException]
    message: str
    """Regular expression the exception's message matches."""
    inputs: tuple[Callable[[], object], ...]
    """Minimal reproducers."""

    def matches(self, error: BaseException) -> bool:
        if not isinstance(error, self.exception) or not re.search(self.message, str(error)):
            return False
        frames = [
            f"{Path(frame.filename).name}:{frame.name}"
            for frame in traceback.extract_tb(error.__traceback__)
            if f"{os.sep}envlock{os.sep}" in frame.filename and not frame.name.startswith("<")  # <genexpr>
        ]
        return bool(frames) and (not self.where or frames[-1] in self.where)


KNOWN_CRASHES: list[KnownCrash] = []
FORMER_CRASHES: list[KnownCrash] = []
"""Crashes the fuzzer found and that were fixed: each reproducer now gives a result or an EnvlockError."""


def outcome(call: Callable[[], T], *, tolerate_known: bool = True) -> T | None:
    """The result of ``call``, or None when it raised an EnvlockError; any other exception propagates
    (and fails the test, which hypothesis then shrinks to a minimal input), except a KNOWN_CRASHES one."""
    try:
        return call()
    except EnvlockError as error:
        assert str(error), "an EnvlockError must carry a message"
        assert "Traceback" not in str(error)
        return None
    except Exception as error:
        if tolerate_known and any(known.matches(error) for known in KNOWN_CRASHES):
            return None
        raise


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per example (the test's tmp_path is shared by all examples of one test)."""
    with tempfile.TemporaryDirectory(prefix="envlock-fuzz-") as folder:
        yield Path(folder)


# ------------------------------------------------------------------------------------------ building blocks

HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
BAD_HASH = st.one_of(
    st.sampled_from(
        [
            "",
            "0" * 63,
            "0" * 65,
            "A" * 64,
            "g" * 64,
            "../" * 21 + "x",
            "/" + "a" * 63,
            "..\\" * 21 + "x",
            "0" * 63 + "\x00",
            "０" * 64,  # full-width digits: str.isdigit() but not hex
        ]
    ),
    st.text(max_size=70),
)
ANY_HASH = st.one_of(HEX64, BAD_HASH)

NAMES = st.sampled_from(["demo", "Demo_Pkg", "demo-pkg", "other", "a", "zope.interface", "ÿ", "-bad", ""])
VERSIONS = st.sampled_from(["1.0", "1.0.post1", "2!3.4rc1", "1.0+local.7", "0", "1.0.dev0", "1.*", "x y", ""])
TEXT = st.text(max_size=30)

# Scalars a TOML document (tomllib) can hold, for swapping in where another type belongs.
TOML_SCALAR = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True),
    TEXT,
    st.datetimes(timezones=st.just(timezone.utc)),
    st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])),
    st.datetimes(),
    st.dates(),
    st.times(),
)
TOML_VALUE: st.SearchStrategy[Any] = st.recursive(
    TOML_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape, sometimes any other TOML value."""
    return weighted(good, TOML_VALUE, 4)


def weighted(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], odds: int) -> st.SearchStrategy[Any]:
    """``bad`` once in ``odds`` draws, else ``good`` (which hypothesis shrinks towards)."""
    return st.integers(min_value=1, max_value=odds).flatmap(lambda roll: bad if roll == odds else good)


def wheel_names(project: st.SearchStrategy[str] = NAMES) -> st.SearchStrategy[str]:
    tags = st.sampled_from(
        ["py3-none-any", "py2.py3-none-any", "cp311-cp311-manylinux_2_17_x86_64", "cp99-x-y"]
    )
    return st.builds(lambda n, v, t: f"{n}-{v}-{t}.whl", project, VERSIONS, tags)


def sdist_names(project: st.SearchStrategy[str] = NAMES) -> st.SearchStrategy[str]:
    suffix = st.sampled_from([".tar.gz", ".zip", ".tgz", ""])
    return st.builds(lambda n, v, s: f"{n}-{v}{s}", project, VERSIONS, suffix)


HOSTILE_FILENAMES = st.sampled_from(
    [
        "../demo-1.0.tar.gz",
        "a/demo-1.0-py3-none-any.whl",
        "a\\demo-1.0-py3-none-any.whl",
        "..%2Fdemo-1.0.tar.gz",
        "%2E%2E",
        "C:demo-1.0.tar.gz",
        "demo-1.0.tar.gz\x00",
        "/abs/demo-1.0-py3-none-any.whl",
        "demo-1.0-py3-none-any.whl\n",
        ".",
        "..",
        "demo-1.0%5C..%5Cx.tar.gz",
    ]
)


def file_names(project: st.SearchStrategy[str] = NAMES) -> st.SearchStrategy[str]:
    return st.one_of(wheel_names(project), sdist_names(project), HOSTILE_FILENAMES, TEXT)


SCHEMES = st.sampled_from(
    [
        "https://",
        "http://",
        "HTTPS://",
        "file://",
        "file:///",
        "javascript:",
        "data:,",
        "ftp://",
        "//",
        "",
        "/",
    ]
)
HOSTS = st.sampled_from(
    [
        "files.example",
        "user:secret@files.example",
        "[::1]",
        "[::1",  # unterminated IPv6 literal
        "host:99999",
        "host:port",
        "a\uff03b",  # NFKC-normalizes to '#'
        "",
        "..",
    ]
)


def urls(filename: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    tail = st.one_of(filename if filename is not None else file_names(), TEXT)
    fragment = st.one_of(
        st.just(""),
        st.builds(lambda h: f"#sha256={h}", ANY_HASH),
        st.builds(lambda a, h: f"#{a}={h}", st.sampled_from(["sha384", "sha512", "md5", "SHA256"]), ANY_HASH),
        st.builds(lambda h: f"#md5=1&sha256={h}", ANY_HASH),
    )
    query = st.sampled_from(["", "?x=1", "?", "?a=b#c"])
    structured = st.builds(
        lambda s, h, p, t, q, f: f"{s}{h}{p}{t}{q}{f}",
        SCHEMES,
        HOSTS,
        st.sampled_from(["/", "/packages/", "/a/../../", "/%2e%2e/", "\\", "/a b/"]),
        tail,
        query,
        fragment,
    )
    return st.one_of(structured, structured, TEXT)


# ------------------------------------------------------------------------------------------------ lock files


def _file_entry(filename: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "name": maybe(filename),
            "url": maybe(urls(filename)),
            "path": maybe(st.one_of(filename, st.sampled_from(["../x.whl", "/abs/x.whl", "sub/x.tar.gz"]))),
            "size": maybe(st.integers(min_value=-5, max_value=2**64)),
            "upload-time": maybe(st.datetimes(timezones=st.just(timezone.utc))),
            "hashes": maybe(
                st.dictionaries(st.sampled_from(["sha256", "sha512", "md5", "SHA256", ""]), maybe(ANY_HASH))
            ),
        },
    )


MARKERS = st.sampled_from(
    [
        "python_version >= '3'",
        "sys_platform == 'win32'",
        "extra == 'x'",
        "'dev' in dependency_groups",
        "python_version >=",
        "os_name == 'posix' and",
        "unknown_var == '1'",
    ]
)
GOOD_MARKERS = st.sampled_from(
    ["python_version >= '3'", "sys_platform == 'win32'", "os_name == 'posix'", "extra == 'x'"]
)
GOOD_SPECIFIERS = st.sampled_from([">=3.8", "<3", ">=3.8,<4", "!=3.11.*", ">=3.99"])
SPECIFIERS = st.sampled_from([">=3.8", "<3", "==3.*", ">=", "~=1", ">=3.8,<4", "!=3.11.*", "bogus"])

_envlock_tool = st.fixed_dictionaries(
    {},
    optional={
        "fingerprint": maybe(st.just("sha256:" + "0" * 64)),
        "inputs": maybe(st.lists(TEXT, max_size=3)),
        "options": maybe(st.dictionaries(TEXT, TOML_VALUE, max_size=3)),
        "via": maybe(st.lists(TEXT, max_size=2)),
    },
)
TOOL = st.one_of(st.fixed_dictionaries({"envlock": maybe(_envlock_tool)}), st.dictionaries(TEXT, TOML_VALUE))


def _package(project: str) -> st.SearchStrategy[dict[str, Any]]:
    own = st.one_of(st.just(project), NAMES)
    return st.fixed_dictionaries(
        {"name": maybe(own)},
        optional={
            "version": maybe(VERSIONS),
            "marker": maybe(MARKERS),
            "requires-python": maybe(SPECIFIERS),
            "dependencies": maybe(
                st.lists(
                    st.fixed_dictionaries({}, optional={"name": maybe(NAMES), "version": maybe(VERSIONS)}),
                    max_size=2,
                )
            ),
            "index": maybe(urls()),
            "wheels": maybe(st.lists(_file_entry(wheel_names(own)), max_size=3)),
            "sdist": maybe(_file_entry(sdist_names(own))),
            "archive": maybe(_file_entry(file_names(own))),
            "vcs": maybe(st.fixed_dictionaries({"type": st.just("git"), "url": urls(), "commit-id": TEXT})),
            "directory": maybe(st.fixed_dictionaries({"path": TEXT})),
            "attestation-identities": maybe(st.lists(st.dictionaries(TEXT, TEXT), max_size=1)),
            "tool": maybe(TOOL),
        },
    )


def rarely_bad(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Almost always the right value (a near-valid lock gets past validation into selection)."""
    return weighted(good, TOML_VALUE, 12)


@st.composite
def near_valid_package(draw: st.DrawFn, project: str) -> dict[str, Any]:
    """A package entry that is valid but for a rare swapped value, with artifacts that fit this machine."""
    version = draw(st.sampled_from(["1.0", "2.0.post1", "1.0rc1", "0!3", "1.0+local"]))
    file_project = draw(weighted(st.just(project), NAMES, 6))
    file_version = draw(weighted(st.just(version), VERSIONS, 6))
    stem = f"{file_project}-{file_version}"
    wheel = st.builds(lambda tag: f"{stem}-{tag}.whl", st.sampled_from(["py3-none-any", "cp99-cp99-x"]))
    sdist = st.sampled_from([f"{stem}.tar.gz", f"{stem}.zip"])

    def entry(names: st.SearchStrategy[str], *, named: bool = True) -> st.SearchStrategy[dict[str, Any]]:
        return names.flatmap(
            lambda filename: st.fixed_dictionaries(
                {
                    "url": rarely_bad(
                        st.one_of(
                            *[st.just(f"https://files.example/p/{filename}")] * 3, urls(st.just(filename))
                        )
                    ),
                    "hashes": rarely_bad(st.fixed_dictionaries({"sha256": weighted(HEX64, BAD_HASH, 6)})),
                },
                optional={
                    **(
                        {"name": rarely_bad(st.one_of(st.just(filename), HOSTILE_FILENAMES))} if named else {}
                    ),
                    "size": rarely_bad(st.integers(min_value=0, max_value=2**40)),
                    "upload-time": rarely_bad(st.datetimes(timezones=st.just(timezone.utc))),
                },
            )
        )

    artifacts = draw(
        st.one_of(
            st.fixed_dictionaries({"wheels": st.lists(entry(wheel), min_size=1, max_size=2)}),
            st.fixed_dictionaries({"sdist": entry(sdist)}),
            st.fixed_dictionaries(
                {"wheels": st.lists(entry(wheel), min_size=1, max_size=2), "sdist": entry(sdist)}
            ),
            st.fixed_dictionaries({"archive": entry(st.one_of(wheel, sdist), named=False)}),
        )
    )
    extra = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "marker": rarely_bad(weighted(GOOD_MARKERS, MARKERS, 6)),
                "requires-python": rarely_bad(weighted(GOOD_SPECIFIERS, SPECIFIERS, 6)),
                "index": rarely_bad(st.just("https://pypi.example/simple/")),
                "dependencies": rarely_bad(st.lists(st.fixed_dictionaries({"name": NAMES}), max_size=2)),
                "tool": rarely_bad(TOOL),
            },
        )
    )
    return {
        "name": draw(rarely_bad(st.just(project))),
        "version": draw(rarely_bad(st.just(version))),
        **artifacts,
        **extra,
    }


NEAR_VALID_LOCK = st.fixed_dictionaries(
    {
        "lock-version": rarely_bad(st.just("1.0")),
        "created-by": rarely_bad(st.just("envlock")),
        "packages": st.lists(
            weighted(st.sampled_from(["demo", "other", "demo-pkg"]), st.just("Demo_Pkg"), 8).flatmap(
                near_valid_package
            ),
            max_size=4,
        ),
    },
    optional={
        "requires-python": rarely_bad(weighted(GOOD_SPECIFIERS, SPECIFIERS, 6)),
        "environments": rarely_bad(st.lists(weighted(GOOD_MARKERS, MARKERS, 6), max_size=2)),
        "tool": rarely_bad(TOOL),
    },
)

LOCK_DATA = st.fixed_dictionaries(
    {
        "lock-version": maybe(st.sampled_from(["1.0", "1.0", "1", "1.1", "1.99", "2.0", "0.9", "x"])),
        "created-by": maybe(st.just("envlock")),
        "packages": maybe(
            st.lists(st.sampled_from(["demo", "other", "Demo_Pkg"]).flatmap(_package), max_size=4),
        ),
    },
    optional={
        "environments": maybe(st.lists(MARKERS, max_size=2)),
        "requires-python": maybe(SPECIFIERS),
        "extras": maybe(st.lists(NAMES, max_size=2)),
        "dependency-groups": maybe(st.lists(NAMES, max_size=2)),
        "default-groups": maybe(st.lists(NAMES, max_size=2)),
        "tool": maybe(TOOL),
    },
)

SELECTION_OPTIONS = st.builds(
    SelectionOptions,
    extras=st.lists(NAMES, max_size=2).map(tuple),
    groups=st.one_of(st.none(), st.lists(NAMES, max_size=2).map(tuple)),
    only_binary=st.sampled_from([frozenset(), frozenset({":all:"}), frozenset({"demo"})]),
)


def _targets() -> list[TargetEnvironment]:
    return [current_environment(), environment_for_version("3.8"), environment_for_version("3.13.1")]


TARGETS = st.sampled_from(_targets())


def check_lock(
    lock_data: dict[str, Any] | None, lock_path: Path, target: TargetEnvironment, options: Any
) -> None:
    """lock_from_dict (or read_lock) -> lock_metadata -> select, and the selection's values are valid."""
    if lock_data is None:
        lock = outcome(lambda: read_lock(lock_path))
    else:
        lock = outcome(lambda: lock_from_dict(lock_data, source=str(lock_path)))
    if lock is None:
        event("lock rejected")
        return
    meta = lock_metadata(lock)
    assert meta.fingerprint is None or isinstance(meta.fingerprint, str)
    assert all(isinstance(i, str) for i in meta.inputs)
    selection = outcome(lambda: select(lock, target, options, lock_path=lock_path))
    if selection is None:
        event("selection refused")
        return
    event(f"selected {min(len(selection.packages), 2)}+ packages")
    for package in selection.packages:
        artifact = package.artifact
        assert SHA256.fullmatch(artifact.sha256), artifact
        assert "/" not in artifact.filename and "\\" not in artifact.filename, artifact
        assert artifact.filename not in ("", ".", ".."), artifact
        if artifact.url is not None:
            assert urlsplit(artifact.url).scheme.lower() in ("http", "https"), artifact


@FUZZ
@given(data=NEAR_VALID_LOCK, target=TARGETS, options=SELECTION_OPTIONS)
def test_near_valid_lock_dicts(
    data: dict[str, Any], target: TargetEnvironment, options: SelectionOptions
) -> None:
    check_lock(data, Path("/nonexistent/fuzz/pylock.toml"), target, options)


@FUZZ
@given(data=LOCK_DATA, target=TARGETS, options=SELECTION_OPTIONS)
def test_lock_dicts(data: dict[str, Any], target: TargetEnvironment, options: SelectionOptions) -> None:
    check_lock(data, Path("/nonexistent/fuzz/pylock.toml"), target, options)


@FUZZ
@given(data=st.one_of(NEAR_VALID_LOCK, LOCK_DATA))
def test_lock_written_back_reads_the_same(data: dict[str, Any]) -> None:
    """A lock envlock accepted can be written (deterministically) and read back to the same lock."""
    lock = outcome(lambda: lock_from_dict(data, source="fuzz.toml"))
    if lock is None:
        return
    text = outcome(lambda: dumps_lock(lock))
    if text is None:
        return
    assert dumps_lock(lock) == text
    with scratch() as folder:
        path = folder / "pylock.toml"
        path.write_text(text, encoding="utf-8")
        again = read_lock(path)  # no EnvlockError allowed: what envlock writes it must read
    assert dumps_lock(again) == text


def test_empty_lock_written_back() -> None:
    """Found by the fuzzer: a lock without packages was written without ``packages``, which PEP 751
    requires, so envlock could not read its own lock of an empty requirements file."""
    lock = lock_from_dict({"lock-version": "1.0", "created-by": "envlock", "packages": []}, source="x")
    with scratch() as folder:
        path = folder / "pylock.toml"
        path.write_text(dumps_lock(lock), encoding="utf-8")
        assert read_lock(path).packages == []


VALID_LOCK = f"""\
lock-version = "1.0"
requires-python = ">=3.8"
created-by = "envlock"

[[packages]]
name = "demo"
version = "1.0"
dependencies = [{{name = "other"}}]
index = "https://pypi.example/simple/"
wheels = [
    {{name = "demo-1.0-py3-none-any.whl", url = "https://files.example/demo-1.0-py3-none-any.whl", \
size = 10, hashes = {{sha256 = "{"a" * 64}"}}}},
]
sdist = {{name = "demo-1.0.tar.gz", upload-time = 2024-01-01T00:00:00Z, path = "dist/demo-1.0.tar.gz", \
hashes = {{sha256 = "{"b" * 64}"}}}}

[[packages]]
name = "other"
version = "2.0"
marker = "python_version >= '3'"
archive = {{url = "https://files.example/other-2.0.zip", hashes = {{sha256 = "{"c" * 64}"}}}}

[tool.envlock]
fingerprint = "sha256:{"d" * 64}"
inputs = ["requirements.in"]
"""

EDITS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "replace"]),
        st.integers(min_value=0, max_value=len(VALID_LOCK)),
        st.one_of(
            st.sampled_from(
                ['"', "'", "[", "]", "{", "}", "=", "\n", "\\", "#", "../", "\x00", "é", "1", "ab"]
            ),
            TEXT,
        ),
    ),
    min_size=1,
    max_size=4,
)


def _edited(text: str, edits: list[tuple[str, int, str]]) -> str:
    for action, position, piece in edits:
        position = min(position, len(text))
        if action == "insert":
            text = text[:position] + piece + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + len(piece) :]
        else:
            text = text[:position] + piece + text[position + len(piece) :]
    return text


def test_valid_lock_template_selects() -> None:
    """The template the text fuzzer mutates is a valid lock, so mutations start from the real format."""
    with scratch() as folder:
        path = folder / "pylock.toml"
        path.write_text(VALID_LOCK, encoding="utf-8")
        selection = select(read_lock(path), current_environment(), SelectionOptions(), lock_path=path)
    assert [p.name for p in selection.packages] == ["demo", "other"]


@FUZZ
@given(edits=EDITS, target=TARGETS)
def test_lock_text_mutations(edits: list[tuple[str, int, str]], target: TargetEnvironment) -> None:
    with scratch() as folder:
        path = folder / "pylock.toml"
        path.write_text(_edited(VALID_LOCK, edits), encoding="utf-8", newline="")
        check_lock(None, path, target, SelectionOptions())


@FEW
@given(
    raw=st.one_of(
        st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))
    )
)
def test_lock_raw_bytes(raw: bytes) -> None:
    with scratch() as folder:
        path = folder / "pylock.toml"
        path.write_bytes(raw)
        check_lock(None, path, current_environment(), SelectionOptions())


def test_lock_unreadable_paths() -> None:
    with scratch() as folder:
        for path in (folder / "missing.toml", folder):
            assert outcome(lambda path=path: read_lock(path)) is None  # type: ignore[misc]


# -------------------------------------------------------------------------------------- requirements files

# -r/-c only ever name files inside the example's scratch folder (or ones that do not exist) or URLs
# fetched through the fake below: never /dev/* or anything else on this machine.
INCLUDES = st.sampled_from(
    [
        "other.in",
        "missing.in",
        "sub/missing.in",
        "fuzz.in",  # itself
        "../missing-envlock-fuzz.in",
        "${DIR}/other.in",
        "${UNSET}/x.in",
        "https://reqs.example/other.txt",
        "https://reqs.example/sub/next.txt",
        "https://user:pw@reqs.example/r.txt",
        "http://[::1/r.txt",
        "subdir/",
        "",
    ]
)
OPTION_LINES = st.one_of(
    st.builds(
        lambda o, v: f"{o}{v}",
        st.sampled_from(["-r ", "-r", "-c ", "--requirement=", "--constraint "]),
        INCLUDES,
    ),
    st.builds(
        lambda o, v: f"{o}{v}",
        st.sampled_from(
            ["-i ", "--index-url=", "--extra-index-url ", "-f ", "--find-links=", "-e ", "--editable "]
        ),
        st.one_of(
            urls(), st.sampled_from([".", "./wheels", "file:///nonexistent-envlock", "git+https://x/y"])
        ),
    ),
    st.builds(
        lambda o, v: f"{o}{v}",
        st.sampled_from(
            ["--only-binary ", "--only-binary=", "--no-binary ", "--pre", "--pre ", "--hash=", "--unknown "]
        ),
        st.one_of(st.sampled_from([":all:", ":none:", "demo,other", "a b", "sha256:" + "0" * 64, ""]), TEXT),
    ),
)
REQUIREMENT_LINES = st.one_of(
    st.builds(
        lambda n, e, s, m: f"{n}{e}{s}{m}",
        NAMES,
        st.sampled_from(["", "[x]", "[x,y]", "[", "[]", "[x"]),
        st.sampled_from(["", "==1.0", ">=1,<2", "~=1.0", "===odd", "==1.*", " (>=1)", "== ", "@ "]),
        st.one_of(st.just(""), MARKERS.map(lambda m: f"; {m}"), MARKERS.map(lambda m: f" ;{m}")),
    ),
    st.builds(lambda n, u: f"{n} @ {u}", NAMES, urls()),
    urls(),
    st.builds(lambda r, h: f"{r} --hash=sha256:{h}", st.sampled_from(["demo==1.0", "x"]), ANY_HASH),
    st.sampled_from(
        ["git+https://github.com/x/y", "./local/pkg", "/abs/demo-1.0.tar.gz", "C:\\x\\y", "~/pkg", "."]
    ),
)
LINE = st.one_of(
    REQUIREMENT_LINES,
    OPTION_LINES,
    st.sampled_from(
        ["", "#", "# comment", "\\", "  ", "\x00", "\ufeffdemo", "demo # trailing", "demo \\", "\x0c"]
    ),
    TEXT,
)
REQUIREMENTS_TEXT = st.lists(
    st.tuples(LINE, st.sampled_from(["\n", "\n", "\r\n", " \\\n", "\r", "\x85", "\u2028"])), max_size=8
).map(lambda pairs: "".join(line + end for line, end in pairs))


def _guarded_reader(folder: Path) -> Callable[..., str]:
    """config.read_input_text, refusing (as an EnvlockError) any file outside the scratch folder, so a
    generated include can never read this machine's files."""
    original = config.read_input_text
    root = folder.resolve()

    def read(path: Path, shown: str, **kwargs: Any) -> str:
        resolved = Path(os.path.abspath(path))  # noqa: PTH100
        if root not in (resolved, *resolved.parents):
            raise config.RequirementsFileError(f"{shown}: outside the fuzz folder (not read)")
        return original(path, shown, **kwargs)

    return read


@FUZZ
@given(main=REQUIREMENTS_TEXT, other=REQUIREMENTS_TEXT, remote=REQUIREMENTS_TEXT, with_fetch=st.booleans())
def test_requirements_files(main: str, other: str, remote: str, with_fetch: bool) -> None:
    fetched: list[str] = []

    def fetch(url: str) -> str:
        fetched.append(url)
        # includes nest at most requirements_file.MAX_INCLUDE_DEPTH deep; this keeps fetches few
        if len(fetched) > 50:
            raise NetworkError(f"{url}: the fuzz test's fake server stops after 50 fetches")
        return remote

    with scratch() as folder:
        (folder / "sub").mkdir()
        (folder / "fuzz.in").write_text(main, encoding="utf-8", newline="")
        (folder / "other.in").write_text(other, encoding="utf-8", newline="")
        (folder / "sub" / "other.in").write_text(other, encoding="utf-8", newline="")
        with mock.patch.object(requirements_file, "read_input_text", _guarded_reader(folder)):
            inputs = outcome(
                lambda: requirements_file.read_requirements_files(
                    [folder / "fuzz.in"],
                    {"DIR": "sub", "TOKEN": "t0ken"},
                    base=folder,
                    fetch=fetch if with_fetch else None,
                )
            )
        if inputs is None:
            return
        for item in (*inputs.requirements, *inputs.constraints):
            if item.requirement.url:
                assert urlsplit(item.requirement.url).scheme in ("http", "https"), item
        for url in (inputs.index.index_url, *inputs.index.extra_index_urls):
            if url is not None:
                assert urlsplit(url).scheme.lower() in ("http", "https"), url
        # The input fingerprint (compile --check) of whatever was read.
        outcome(
            lambda: config.fingerprint(
                inputs, index=inputs.index, options=inputs.options, target=current_environment().markers
            )
        )


@FUZZ
@given(line=LINE)
def test_requirement_line(line: str) -> None:
    with scratch() as folder:
        requirement = outcome(lambda: requirements_file.parse_requirement_line(line, "fuzz.in:1", folder))
    if requirement is not None and requirement.url:
        # http(s) archives; file: and git+ URLs are sources, checked by requirement_item
        assert urlsplit(requirement.url).scheme in ("http", "https", "file") or requirement.url.startswith(
            "git+"
        ), requirement


SOURCE_LINES = st.one_of(
    LINE,
    st.builds(
        lambda prefix, body: prefix + body,
        st.sampled_from(["", "-e ", "lib @ ", "lib @ git+", "git+", "file:", "./", "../"]),
        st.one_of(
            TEXT,
            st.sampled_from(
                [
                    "https://h/r@-x",
                    "ssh://-oProxyCommand=x/r",
                    "file:///nonexistent",
                    ".",
                    "x#egg=lib",
                    "https://t:s@h/r@v1#subdirectory=../x",
                ]
            ),
        ),
    ),
)


@FUZZ
@given(line=SOURCE_LINES)
def test_source_line(line: str) -> None:
    """Paths, file: and git+ URLs: a sourced requirement or an EnvlockError, never a crash."""
    with scratch() as folder:
        item = outcome(lambda: requirements_file.requirement_item(line, "fuzz.in:1", folder))
    if item is not None and item.origin is not None:
        assert item.origin.kind in ("directory", "archive", "vcs")
        assert not (item.origin.url or "").startswith("-")


HASHED_LINES = st.one_of(
    st.builds(
        lambda r, hashes, m: r + m + "".join(hashes),
        st.builds(
            lambda n, s: f"{n}{s}", NAMES, st.sampled_from(["==1.0", "===x", "==1.*", ">=1", "==1.0,<2", ""])
        ),
        st.lists(
            st.one_of(
                st.builds(lambda h: f" --hash=sha256:{h}", ANY_HASH),
                st.builds(lambda h: f" \\\n    --hash sha256:{h}", ANY_HASH),
                st.builds(lambda h: f" --hash=md5:{h}", ANY_HASH),
                st.sampled_from([" --hash=", " --hash", " --hash= ", " --hash=sha256:"]),
            ),
            max_size=3,
        ),
        st.one_of(st.just(""), MARKERS.map(lambda m: f" ; {m}")),
    ),
    OPTION_LINES,
    LINE,
)
HASHED_TEXT = st.lists(
    st.tuples(HASHED_LINES, st.sampled_from(["\n", "\r\n", " \\\n", "\r"])), max_size=6
).map(lambda pairs: "".join(line + end for line, end in pairs))


def _lookup(parsed: requirements_lock.RequirementsLock, name: str, version: str) -> list[DistFile]:
    """A fake index: one wheel per pin, named after the pin, carrying the pin's first hash."""
    from packaging.version import InvalidVersion, Version

    pin = next(p for p in parsed.pins if p.name == name and p.version == version)
    try:
        parsed_version = Version(version)
    except InvalidVersion:
        parsed_version = Version("0")
    return [
        DistFile(
            filename=f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
            url=f"https://files.example/{name}-{version}-py3-none-any.whl",
            project=name,  # type: ignore[arg-type]
            version=parsed_version,
            is_wheel=True,
            hashes={"sha256": sorted(pin.sha256)[0]},
            index="https://pypi.example/simple/",
        )
    ]


@FUZZ
@given(text=HASHED_TEXT)
def test_hashed_requirements(text: str) -> None:
    """``envlock import``: a hashed requirements file -> pins -> a PEP 751 lock (fake index lookups)."""
    with scratch() as folder:
        path = folder / "requirements.txt"
        path.write_text(text, encoding="utf-8", newline="")
        body = outcome(lambda: requirements_lock.read(path))
        if body is None:
            return
        parsed = outcome(lambda: requirements_lock.parse(path, body))
        if parsed is None:
            return
        for pin in parsed.pins:
            assert pin.sha256 and all(SHA256.fullmatch(h) for h in pin.sha256), pin
        lock = outcome(lambda: requirements_lock.to_pylock(path, parsed, _lookup))
        if lock is not None:
            check_lock(lock.to_dict(), folder / "pylock.toml", current_environment(), SelectionOptions())


# --------------------------------------------------------------------------------------------- index pages

PAGE_URL = "https://pypi.example/simple/demo/"
INDEX = "https://pypi.example/simple/"
PROJECT: Any = "demo"  # a NormalizedName

DEMO_FILES = file_names(st.sampled_from(["demo", "Demo", "DEMO_", "other"]))
CORE_METADATA = st.one_of(
    st.booleans(),
    st.none(),
    st.sampled_from(["true", "false", "", "sha256=", "sha256=zz"]),
    st.builds(lambda h: f"sha256={h}", ANY_HASH),
    st.dictionaries(
        st.sampled_from(["sha256", "md5", "SHA256", "", "x"]), st.one_of(ANY_HASH, st.integers())
    ),
)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON_VALUE: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


def json_maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return weighted(good, JSON_VALUE, 4)


JSON_ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "filename": json_maybe(DEMO_FILES),
        "url": json_maybe(urls(DEMO_FILES)),
        "hashes": json_maybe(
            st.dictionaries(
                st.sampled_from(["sha256", "sha512", "md5", "blake2b", "", "../x"]), json_maybe(ANY_HASH)
            )
        ),
        "requires-python": json_maybe(SPECIFIERS),
        "yanked": json_maybe(st.one_of(st.booleans(), TEXT)),
        "core-metadata": json_maybe(CORE_METADATA),
        "dist-info-metadata": json_maybe(CORE_METADATA),
        "data-dist-info-metadata": json_maybe(CORE_METADATA),
        "size": json_maybe(st.integers(min_value=-10, max_value=2**70)),
        "upload-time": json_maybe(
            st.one_of(
                st.datetimes().map(lambda d: d.isoformat()),
                st.sampled_from(
                    ["2024-01-01T00:00:00Z", "Mon, 01 Jan 2024 00:00:00 GMT", "0000", "9999-99-99"]
                ),
            )
        ),
    },
)
JSON_DOCUMENT = st.one_of(
    st.fixed_dictionaries(
        {"files": json_maybe(st.lists(json_maybe(JSON_ENTRY), max_size=4))},
        optional={"meta": JSON_VALUE, "name": json_maybe(NAMES), "versions": JSON_VALUE},
    ),
    JSON_VALUE,
)


def check_files(files: tuple[DistFile, ...] | None) -> None:
    for file in files or ():
        assert urlsplit(file.url).scheme in ("http", "https"), file
        assert file.sha256 is None or SHA256.fullmatch(file.sha256), file
        assert "/" not in file.filename and "\\" not in file.filename, file
        assert file.filename not in ("", ".", ".."), file
        for value in (file.metadata_hashes or {}).values():
            assert HEX.fullmatch(value), file
        assert file.size is None or file.size >= 0, file


@FUZZ
@given(document=JSON_DOCUMENT)
def test_json_pages(document: Any) -> None:
    body = json.dumps(document).encode("utf-8")
    check_files(outcome(lambda: pages._parse_json_page(body, PAGE_URL, PROJECT, INDEX)))


@FEW
@given(
    body=st.one_of(st.binary(max_size=200), st.sampled_from([b"[" * 100_000, b'{"files": ' + b"[" * 100_000]))
)
def test_json_page_bytes(body: bytes) -> None:
    check_files(outcome(lambda: pages._parse_json_page(body, PAGE_URL, PROJECT, INDEX)))


def _attribute(name: str, value: str | None) -> str:
    if value is None:
        return f" {name}"
    quote = "'" if '"' in value else '"'
    return f" {name}={quote}{value.replace(quote, '')}{quote}"


HTML_ATTRIBUTES = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "data-requires-python",
                "data-yanked",
                "data-core-metadata",
                "data-dist-info-metadata",
                "data-gpg-sig",
                "rel",
            ]
        ),
        st.one_of(
            st.none(),
            SPECIFIERS.map(lambda s: s.replace(">", "&gt;").replace("<", "&lt;")),
            CORE_METADATA.map(str),
        ),
    ),
    max_size=3,
)
ANCHOR = st.builds(
    lambda href, attrs, text: (
        f"<a{_attribute('href', href)}{''.join(_attribute(n, v) for n, v in attrs)}>{text}</a>"
    ),
    st.one_of(urls(DEMO_FILES), DEMO_FILES, st.none()),
    HTML_ATTRIBUTES,
    st.one_of(DEMO_FILES, TEXT),
)
HTML_PAGE = st.builds(
    lambda base, pieces: (
        "<!DOCTYPE html><html><head>"
        + (f"<base{_attribute('href', base)}>" if base != "-" else "")
        + "</head><body>"
        + "\n".join(pieces)
        + "</body></html>"
    ),
    st.one_of(
        st.just("-"), urls(st.just("")), st.sampled_from(["file:///", "javascript:alert(1)//", "/", "../"])
    ),
    st.lists(
        st.one_of(
            ANCHOR,
            ANCHOR,
            TEXT,
            st.sampled_from(
                ["<a href>", "<a href=>", "<a", "<!--", "<![CDATA[", "&#0;", "&#x110000;", "<script>"]
            ),
        ),
        max_size=5,
    ),
)


@FUZZ
@given(page=HTML_PAGE, name=st.sampled_from([PROJECT, None]), listed_by=st.sampled_from([INDEX, None]))
def test_html_pages(page: str, name: Any, listed_by: str | None) -> None:
    body = page.encode("utf-8", "surrogatepass")
    check_files(outcome(lambda: pages._parse_html_page(body, PAGE_URL, name, listed_by)))


@FEW
@given(body=st.binary(max_size=300))
def test_html_page_bytes(body: bytes) -> None:
    check_files(outcome(lambda: pages._parse_html_page(body, PAGE_URL, PROJECT, INDEX)))


METADATA_FIELDS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Metadata-Version",
                "Name",
                "Version",
                "Requires-Dist",
                "Requires-Python",
                "Provides-Extra",
                "Summary",
                "Dynamic",
                "name",
                "",
                "X:Y",
            ]
        ),
        st.one_of(
            st.sampled_from(
                ["2.1", "demo", "1.0", "other>=1; extra == 'x'", ">=3.8", "x", "", "=?utf-8?q?=FF?="]
            ),
            TEXT,
        ),
    ),
    max_size=8,
)


@FUZZ
@given(
    fields=METADATA_FIELDS,
    body=st.one_of(st.just(b""), st.binary(max_size=50)),
    line_end=st.sampled_from([b"\n", b"\r\n", b"\n "]),
)
def test_core_metadata(fields: list[tuple[str, str]], body: bytes, line_end: bytes) -> None:
    data = b"".join(f"{k}: {v}".encode("utf-8", "surrogatepass") + line_end for k, v in fields) + b"\n" + body
    parsed = outcome(lambda: index.parse_core_metadata(data, "demo-1.0-py3-none-any.whl"))
    if parsed is not None:
        assert parsed.name and parsed.version
        assert index.CoreMetadata.from_json(parsed.to_json()) == parsed


@FEW
@given(data=st.binary(max_size=400))
def test_core_metadata_bytes(data: bytes) -> None:
    outcome(lambda: index.parse_core_metadata(data, "demo-1.0.tar.gz"))


# ------------------------------------------------------------------------------- crashes in others' modules

HERE = Path("/nonexistent-envlock-fuzz")
BAD_NETLOC = r"Invalid IPv6 URL|contains invalid characters under NFKC normalization"
"""urllib.parse raises ValueError for a netloc like ``[::1`` or one with ``＃`` (NFKC: ``#``)."""


def _json_page(url: str) -> bytes:
    return json.dumps({"files": [{"filename": "demo-1.0.tar.gz", "url": url}]}).encode()


FORMER_CRASHES.extend(
    [
        KnownCrash(
            "requirement-url-netloc",
            ("config.py:check_direct_url",),
            ValueError,
            BAD_NETLOC,
            (
                lambda: requirements_file.parse_requirement_line(
                    "https://[::1/demo-1.0.tar.gz", "r.in:1", HERE
                ),
                lambda: requirements_file.parse_requirement_line(
                    "demo @ https://[::1/demo-1.0.tar.gz", "r.in:1", HERE
                ),
                lambda: requirements_file.parse_requirement_line(
                    "https://a\uff03b/demo-1.0.tar.gz", "r.in:1", HERE
                ),
            ),
        ),
        KnownCrash(
            "index-url-netloc",
            ("config.py:check_index_url",),
            ValueError,
            BAD_NETLOC,
            (lambda: config.check_index_url("https://[::1/simple", "r.in:1"),),
        ),
        KnownCrash(
            "find-links-netloc",
            ("config.py:resolve_find_links", "requirements_file.py:_relative_to"),
            ValueError,
            BAD_NETLOC,
            (
                lambda: config.resolve_find_links("file://[::1/x", HERE),
                # -f (or -r) in a requirements file fetched from a URL
                lambda: requirements_file._relative_to("https://reqs.example/r.txt", "file://[::1/x"),
            ),
        ),
        KnownCrash(
            "html-page-netloc",
            ("pages.py:_parse_html_page",),
            ValueError,
            BAD_NETLOC,
            (
                lambda: pages._parse_html_page(b'<base href="http://[">', PAGE_URL, PROJECT, INDEX),
                lambda: pages._parse_html_page(
                    b'<a href="https://[::1/demo-1.0.tar.gz">', PAGE_URL, PROJECT, INDEX
                ),
            ),
        ),
        KnownCrash(
            "json-page-netloc",
            ("pages.py:_json_entry",),
            ValueError,
            BAD_NETLOC,
            (
                lambda: pages._parse_json_page(
                    _json_page("https://[::1/demo-1.0.tar.gz"), PAGE_URL, PROJECT, INDEX
                ),
                lambda: pages._parse_json_page(
                    _json_page("https://a\uff03b/demo-1.0.tar.gz"), PAGE_URL, PROJECT, INDEX
                ),
            ),
        ),
    ]
)


def _select_environments(*environments: str) -> object:
    data = {
        "lock-version": "1.0",
        "created-by": "envlock",
        "packages": [],
        "environments": list(environments),
    }
    lock = lock_from_dict(data, source="pylock.toml")
    return select(lock, current_environment(), SelectionOptions(), lock_path=Path("pylock.toml"))


FORMER_CRASHES.append(
    KnownCrash(
        "lock-environments-extra-marker",
        # packaging.pylock.Pylock.select (or envlock's own check before it) evaluating the lock's environments
        ("selection.py:select", "selection.py:_check_lock_fits"),
        KeyError,  # packaging.markers.UndefinedEnvironmentName
        r"'extra'|'dependency_groups'",
        (
            lambda: _select_environments("extra == 'x'", "python_version >= '3'"),
            lambda: _select_environments("'dev' in dependency_groups", "python_version >= '3'"),
        ),
    )
)


def _endless_url_includes() -> object:
    """A server whose every requirements file says ``-r 0/``: each include is a new URL, one level deeper."""
    collector = requirements_file._Collector(env={}, fetch=lambda url: "-r 0/\n")
    requirements_file._read_file(
        "https://reqs.example/r.txt", collector, constraint=False, base=HERE, stack=()
    )
    return collector


FORMER_CRASHES.append(
    KnownCrash(
        "url-includes-unbounded",
        (),  # RecursionError, raised wherever the stack runs out; every level is a fetch from the server
        RecursionError,
        r"recursion",
        (_endless_url_includes,),
    )
)


@pytest.mark.parametrize(
    "known, reproduce",
    [
        pytest.param(
            known,
            reproduce,
            id=f"{known.key}-{number}",
            marks=pytest.mark.xfail(
                strict=True,
                raises=known.exception,
                reason=f"known crash {known.key} in {known.where} ({known.exception.__name__}); remove its "
                "KNOWN_CRASHES entry once fixed",
            ),
        )
        for known in KNOWN_CRASHES
        for number, reproduce in enumerate(known.inputs, start=1)
    ],
)
def test_known_crash_still_crashes(known: KnownCrash, reproduce: Callable[[], object]) -> None:
    """Each minimal reproducer gets a result or an EnvlockError (xfail while the crash is known)."""
    try:
        outcome(reproduce, tolerate_known=False)
    except Exception as error:
        assert known.matches(error), f"{known.key} now fails differently: {error!r}"
        raise


@pytest.mark.parametrize(
    "reproduce",
    [
        pytest.param(reproduce, id=f"{known.key}-{number}")
        for known in FORMER_CRASHES
        for number, reproduce in enumerate(known.inputs, start=1)
    ],
)
def test_former_crash_is_a_clean_error(reproduce: Callable[[], object]) -> None:
    outcome(reproduce, tolerate_known=False)


# --- export: what pip reads back (issue 26.1) ---------------------------------------------------------

SEPARATORS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
PIP_SYNTAX = " \t-#;$={}\\'\"@<>"
"""Characters pip's requirements-file reader acts on: line breaks, white space before an option or a
comment, ``${VAR}``, a continuation backslash, shlex's quotes, markers and direct URLs."""
FIELD_TEXT = st.text(alphabet=st.sampled_from(list("ab1._/" + PIP_SYNTAX)), max_size=10)
"""Text pip may misread without a line break (a line break is in every ``_injections`` value)."""


def _injections(evil: str) -> st.SearchStrategy[str]:
    """A line or option an attacker appends to a field: the ``evil`` package with its hash, an index."""
    return st.sampled_from(
        [f"{sep}{evil}" for sep in SEPARATORS]
        + [f" {evil}", " --index-url http://127.0.0.1:9/", " -r /etc/passwd", "${HOME}", " #", "\\"]
    )


@st.composite
def exported_fields(draw: st.DrawFn, kit: dict[str, Any]) -> dict[str, Any]:
    """A lock of ``alpha`` and ``beta`` (kit wheels) with generated text in the fields export writes:
    ``via``, ``marker``, ``index``, an archive URL, a wheel's ``path`` (a ``--find-links`` folder)."""
    hostile = st.one_of(FIELD_TEXT, _injections(kit["evil"]))
    packages = []
    for name in ("alpha", "beta"):
        wheel = dict(kit[name])
        package: dict[str, Any] = {"name": name, "version": "1.0"}
        shape = draw(st.sampled_from(["index", "archive", "path"]))
        if shape == "archive":
            url = wheel["url"] + draw(st.one_of(st.just(""), _injections(kit["evil"])))
            package["archive"] = {"url": url, "hashes": wheel["hashes"]}
            del package["version"]
        elif shape == "path":
            folder = draw(
                st.sampled_from(["wheels", "wh eels", "w#x", "-w", "w;x", "w$x", "a/b"]) | FIELD_TEXT
            )
            package["wheels"] = [
                {"name": wheel["name"], "path": f"{folder}/{wheel['name']}", "hashes": wheel["hashes"]}
            ]
        else:
            suffix = draw(st.one_of(st.just(""), _injections(kit["evil"])))
            package["index"] = kit["index"] + suffix
            package["wheels"] = [wheel]
        if draw(st.booleans()):
            value = draw(hostile)
            package["marker"] = draw(
                st.sampled_from([f'platform_release != "{value}"', f"platform_release != '{value}'"])
            )
        if draw(st.booleans()):
            package["tool"] = {"envlock": {"via": draw(st.lists(hostile, min_size=1, max_size=2))}}
        packages.append(package)
    return {"lock-version": "1.0", "created-by": "fuzz", "packages": packages}


def _pip_installs(requirements: Path, report: Path, index: str) -> dict[str, str] | None:
    """What pip itself reads from ``requirements`` (``install --dry-run --report``): name -> version;
    None when pip refuses the file (a refusal is no injection)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--no-input"]
    command += ["--disable-pip-version-check"]  # which would ask pypi.org
    command += ["--ignore-installed", "--report", str(report), "-r", str(requirements)]
    command += ["--index-url", index]  # never PyPI: an --index-url line of the file replaces it
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        return None
    return {
        item["metadata"]["name"]: item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }


PIP_READS = settings(FUZZ, max_examples=EXAMPLES or 40)
"""40 locks; pip runs only for those export accepts (about a third), ~1 s each."""


def test_exported_lock_fields_are_read_by_pip_as_the_lock(kit_index: KitIndex) -> None:
    """Whatever text a lock's fields carry, an exported file that pip reads installs exactly the lock's
    packages (those whose marker holds here): never ``evil``, never from another index. A refusal is an
    EnvlockError; export never raises anything else."""
    kit: dict[str, Any] = {"index": kit_index.url}
    for name in ("alpha", "beta", "evil"):
        (wheel,) = kit_index.publish(DistSpec(name, "1.0"))
        kit[name] = {"name": wheel.name, "url": kit_index.file_url(wheel.name)}
        kit[name]["hashes"] = {"sha256": kit_index.sha256(wheel.name)}
    kit["evil"] = f"evil==1.0 --hash=sha256:{kit['evil']['hashes']['sha256']}"
    wheels = {name: kit_index.files_dir / kit[name]["name"] for name in ("alpha", "beta")}
    read_by_pip = []

    @PIP_READS
    @given(data=exported_fields(kit))
    def check(data: dict[str, Any]) -> None:
        with scratch() as folder:
            lock = outcome(lambda: lock_from_dict(data, source="pylock.toml"))
            options = ExportOptions(lock_dir=folder, output_dir=folder)
            text = None if lock is None else outcome(lambda: export_requirements(lock, options))
            if text is None:
                event("refused")
                return
            for package in data["packages"]:
                for wheel in package.get("wheels", ()):
                    if "path" in wheel:  # the find-links folder the lock names, with the wheel in it
                        target = folder / wheel["path"]
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(wheels[package["name"]].read_bytes())
            (folder / "exported.txt").write_text(text, encoding="utf-8")
            installs = _pip_installs(folder / "exported.txt", folder / "report.json", kit_index.url)
            read_by_pip.append(installs is not None)
            expected = {
                p["name"]: "1.0"
                for p in data["packages"]
                if "marker" not in p or Marker(p["marker"]).evaluate()
            }
            assert installs == expected, text

    check()
    assert any(read_by_pip), "no generated lock was exported: the fuzz checked nothing"
