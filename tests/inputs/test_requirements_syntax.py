"""The one requirements-line lexer: pip's comment and continuation rules, option lines; each case where
compile inputs and hashed lock files used to disagree now reads as pip reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.inputs.requirements_file import read_requirements_files
from envlock.inputs.requirements_syntax import logical_lines, physical_lines, split_option
from envlock.lock.importer import via_annotations
from envlock.lock.requirements_lock import parse

SHA_A = "a" * 64
SHA_B = "b" * 64

TAB_COMMENT = f"a==1 --hash=sha256:{SHA_A}\t# pinned for a reason\nb==2 --hash=sha256:{SHA_B}\n"
"""A comment after a tab: hashed lock files used to split comments only at " #", so the comment stayed
part of the requirement."""
TAB_COMMENT_BACKSLASH = f"a==1 --hash=sha256:{SHA_A}\t# see below \\\nb==2 --hash=sha256:{SHA_B}\n"
"""A ``\\`` at the end of a tab-introduced comment: it used to join the next requirement onto this one."""


def test_logical_lines_comments_and_continuations() -> None:
    text = "a  # c\n# only\n\nb>=1 \\\n  ,<2\nc @ https://h/c-1.0.tar.gz#sha256=ab\n"
    assert list(logical_lines(text)) == [
        (1, "a"),
        (4, "b>=1 ,<2"),
        (6, "c @ https://h/c-1.0.tar.gz#sha256=ab"),
    ]


def test_physical_lines_split_code_and_comment() -> None:
    lines = list(physical_lines("a  # note\n  # only\nc @ https://h/c.whl#sha256=ab\nd \\\n"))
    assert [(line.number, line.code, line.comment) for line in lines] == [
        (1, "a", " note"),
        (2, "", " only"),
        (3, "c @ https://h/c.whl#sha256=ab", None),
        (4, "d \\", None),
    ]
    assert [line.continues for line in lines] == [False, False, False, True]


@pytest.mark.parametrize("text", [TAB_COMMENT, TAB_COMMENT_BACKSLASH], ids=["comment", "backslash"])
def test_a_comment_after_a_tab_is_a_comment_in_a_hashed_lock(text: str) -> None:
    parsed = parse(Path("requirements.txt"), text)
    assert [(pin.name, pin.version, pin.line) for pin in parsed.pins] == [("a", "1", 1), ("b", "2", 2)]


@pytest.mark.parametrize("text", [TAB_COMMENT, TAB_COMMENT_BACKSLASH], ids=["comment", "backslash"])
def test_compile_inputs_and_hashed_locks_split_the_same_lines(text: str) -> None:
    expected = [(1, f"a==1 --hash=sha256:{SHA_A}"), (2, f"b==2 --hash=sha256:{SHA_B}")]
    assert list(logical_lines(text)) == expected


def test_an_attached_short_option_value_in_a_hashed_lock() -> None:
    """``-ihttps://...`` (pip accepts a short option's value attached): hashed lock files used to
    refuse it as an option without a value."""
    parsed = parse(Path("requirements.txt"), f"-ihttps://i/simple\na==1 --hash=sha256:{SHA_A}\n")
    assert parsed.index_url == "https://i/simple"


def test_an_equals_sign_inside_a_long_option_value_in_compile_inputs(tmp_path: Path) -> None:
    """``--index-url URL`` whose URL has a ``=``: compile inputs used to split the option at that
    ``=`` and call it an unknown option."""
    (tmp_path / "requirements.in").write_text("--index-url https://i/simple/?token=1\na\n")
    inputs = read_requirements_files([tmp_path / "requirements.in"], {}, base=tmp_path)
    assert inputs.index.index_url == "https://i/simple/?token=1"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("--pre", ("--pre", "")),
        ("--index-url=https://i/s", ("--index-url", "https://i/s")),
        ("--index-url https://i/s?a=b", ("--index-url", "https://i/s?a=b")),
        ("--find-links\t./wheels", ("--find-links", "./wheels")),
        ("-rbase.in", ("-r", "base.in")),
        ("-r base.in", ("-r", "base.in")),
    ],
)
def test_split_option(line: str, expected: tuple[str, str]) -> None:
    assert split_option(line) == expected


def test_via_annotations_follow_the_same_comment_rule() -> None:
    text = (
        f"a==1 --hash=sha256:{SHA_A}\t# a note \\\n    # via app\n"
        f"b==2 \\\n    --hash=sha256:{SHA_B}\n    # via\n    #   a\n"
    )
    assert via_annotations(text) == {1: ["app"], 3: ["a"]}


PIP_CASES = [
    "a  # c\n# only\n\nb>=1 \\\n  ,<2\nc @ https://h/c-1.0.tar.gz#sha256=ab\n",
    TAB_COMMENT,
    "a==1\t#\tnote\n\t# indented comment\nb==2 \\\n\t--hash=sha256:" + SHA_B + "\n",
]


@pytest.mark.parametrize("text", PIP_CASES)
def test_lines_read_as_pip_reads_them(text: str) -> None:
    """pip itself (a dev-lock oracle) splits these into the same logical lines (pip joins a continuation
    without a separator, envlock with one space: compared word by word)."""
    req_file = pytest.importorskip("pip._internal.req.req_file")
    ours = [(number, line.split()) for number, line in logical_lines(text)]
    pips = [(number, line.split()) for number, line in req_file.preprocess(text)]
    assert ours == pips
