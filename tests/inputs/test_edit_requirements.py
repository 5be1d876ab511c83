"""The requirements-file editor: only the entry's lines change; names matched as PEP 503 names."""

from __future__ import annotations

import pytest

from envlock.errors import InputError
from envlock.inputs.edit_requirements import add_requirements, remove_requirements
from envlock.inputs.edits import parse_specs

TEXT = "-r base.in\n  Alpha_Pkg[x] >=1 \\\n   ; os_name == 'posix' # kept\nhttps://h/beta-1.0-py3-none-any.whl\ngamma"


def test_update_folds_continuations_and_keeps_indent_comment_marker() -> None:
    edited = add_requirements(TEXT, parse_specs(["alpha-pkg==2"]), "r.in")
    assert edited.text == TEXT.replace(
        "  Alpha_Pkg[x] >=1 \\\n   ; os_name == 'posix' # kept", '  alpha-pkg==2; os_name == "posix" # kept'
    )
    assert edited.updated == ("alpha-pkg",) and edited.added == ()


def test_append_ends_the_unterminated_last_line_first() -> None:
    assert add_requirements(TEXT, parse_specs(["delta"]), "r.in").text == TEXT + "\ndelta\n"
    assert add_requirements("", parse_specs(["delta"]), "r.in").text == "delta\n"


def test_remove_all_lines_of_the_entry_and_name_absent_ones() -> None:
    assert remove_requirements(TEXT, ["alpha-pkg"], "r.in").text == (
        "-r base.in\nhttps://h/beta-1.0-py3-none-any.whl\ngamma"
    )
    with pytest.raises(InputError, match=r"r.in: no requirement named beta to remove"):
        remove_requirements(TEXT, ["beta"], "r.in")  # a bare URL is no named entry


def test_several_entries_of_a_name_are_not_guessed() -> None:
    text = "x; os_name == 'nt'\nx; os_name != 'nt'\n"
    with pytest.raises(InputError, match="lines 1, 2"):
        add_requirements(text, parse_specs(["x>1"]), "r.in")
    assert remove_requirements(text, ["x"], "r.in").text == ""


def test_bad_specs() -> None:
    with pytest.raises(InputError, match="invalid requirement"):
        parse_specs(["not a spec!"])
    with pytest.raises(InputError, match="named twice"):
        parse_specs(["a", "A>1"])
