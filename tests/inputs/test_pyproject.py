"""pyproject.toml as a compile input: dependencies, extras, PEP 735 groups, the project's own extras."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.errors import RequirementsFileError
from envlock.inputs.pyproject import read_pyproject


def test_pyproject_extras_groups_and_self_reference(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "app"\ndependencies = ["a"]\nrequires-python = ">=3.10"\n'
        '[project.optional-dependencies]\nfast = ["b"]\nall = ["app[fast]", "c"]\n'
        '[dependency-groups]\nlint = ["d"]\ndev = [{include-group = "lint"}, "app[fast]"]\n'
    )
    inputs = read_pyproject(path, extras=["all"], groups=["dev"], base=tmp_path)
    got = [(str(r.requirement), r.group) for r in inputs.requirements]
    assert got == [("a", ""), ("b", "extra:all"), ("c", "extra:all"), ("d", "group:dev"), ("b", "group:dev")]
    assert inputs.extras == ("all",) and inputs.groups == ("dev",)
    assert inputs.project_requires_python == ">=3.10"


def test_pyproject_errors(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n')
    with pytest.raises(RequirementsFileError, match="include cycle: a -> b -> a"):
        read_pyproject(path, extras=[], groups=["a"], base=tmp_path)
    with pytest.raises(RequirementsFileError, match="unknown extra 'x'"):
        read_pyproject(path, extras=["x"], groups=[], base=tmp_path)
    path.write_text('[project]\ndependencies = ["ok", "bad>>1"]\n')
    with pytest.raises(RequirementsFileError, match=r"pyproject.toml \[project.dependencies\]\[1\]: invalid"):
        read_pyproject(path, extras=[], groups=[], base=tmp_path)
    path.write_text("[project\n")
    with pytest.raises(RequirementsFileError, match="not valid TOML"):
        read_pyproject(path, extras=[], groups=[], base=tmp_path)


def test_extras_that_name_each_other_are_expanded_once(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "app"\n'
        '[project.optional-dependencies]\nx = ["app[y]", "a"]\ny = ["app[x]", "b"]\n'
        '[dependency-groups]\ndev = ["app[x]", "app[y]"]\n'
    )
    inputs = read_pyproject(path, extras=["x"], groups=["dev"], base=tmp_path)
    got = [(str(r.requirement), r.group) for r in inputs.requirements]
    assert got == [("b", "extra:x"), ("a", "extra:x"), ("b", "group:dev"), ("a", "group:dev")]
