"""The pyproject.toml editor: one array changed in the text, the rest byte for byte; checked by re-parsing."""

from __future__ import annotations

import pytest

from envlock.errors import InputError
from envlock.inputs.edit_pyproject import add_pyproject, place_for, remove_pyproject
from envlock.inputs.edits import parse_specs

TEXT = """[project]
name = "p"
version = "1"
dependencies = ['a>=1', 'b', "c"]  # inline

[dependency-groups]
Dev = [
  "x",   # first
  "y"
]
"""
DEPS = place_for(None, None)
DEV = place_for(None, "dev")


def test_inline_array_keeps_quotes_and_spacing() -> None:
    assert add_pyproject(TEXT, parse_specs(["b<2"]), DEPS, "p").text == TEXT.replace("'b'", "'b<2'")
    assert add_pyproject(TEXT, parse_specs(["d"]), DEPS, "p").text == TEXT.replace('"c"]', '"c", "d"]')
    for name, left in (("a", "['b', \"c\"]"), ("b", "['a>=1', \"c\"]"), ("c", "['a>=1', 'b']")):
        assert remove_pyproject(TEXT, [name], DEPS, "p").text == TEXT.replace("['a>=1', 'b', \"c\"]", left)


def test_multiline_array_by_normalized_group_name() -> None:
    added = add_pyproject(TEXT, parse_specs(["z"]), DEV, "p").text
    assert added == TEXT.replace('  "y"\n]', '  "y",\n  "z",\n]')
    assert remove_pyproject(TEXT, ["x"], DEV, "p").text == TEXT.replace('  "x",   # first\n', "")


def test_new_table_at_the_end_and_no_project_table() -> None:
    text = "[tool.x]\na = 1"
    assert add_pyproject(text, parse_specs(["q"]), place_for("web", None), "p").text == (
        text + '\n\n[project.optional-dependencies]\nweb = [\n    "q",\n]\n'
    )
    with pytest.raises(InputError, match="no \\[project\\] table"):
        add_pyproject(text, parse_specs(["q"]), DEPS, "p")


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nname = "p"\noptional-dependencies = { web = ["a"] }\n',  # inline table
        '[project]\nname = "p"\ndynamic = ["dependencies"]\n',
    ],
)
def test_forms_not_edited_are_refused(text: str) -> None:
    place = place_for("web", None) if "optional" in text else DEPS
    with pytest.raises(InputError, match="p: "):
        add_pyproject(text, parse_specs(["q"]), place, "p")


def test_remove_absent_names_table() -> None:
    with pytest.raises(InputError, match=r"no requirement named q in \[dependency-groups\] dev"):
        remove_pyproject(TEXT, ["q"], DEV, "p")
