"""Input reading: pip requirements syntax, pyproject tables, [tool.envlock], the fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.errors import InputError, NeedsNetworkError, RequirementsFileError, UnsupportedError
from envlock.inputs.config import (
    ALL,
    IndexConfig,
    ResolverOptions,
    fingerprint,
    logical_lines,
    project_defaults,
    read_pyproject,
    read_requirements_files,
    read_tool_settings,
)

TARGET = {"python_version": "3.11", "sys_platform": "linux"}


def read(tmp: Path, text: str, env: dict[str, str] | None = None, name: str = "requirements.in"):  # type: ignore[no-untyped-def]
    path = tmp / name
    path.write_text(text)
    return read_requirements_files([path], env or {}, base=tmp)


def test_logical_lines_comments_and_continuations() -> None:
    text = "a  # c\n# only\n\nb>=1 \\\n  ,<2\nc @ https://h/c-1.0.tar.gz#sha256=ab\n"
    assert list(logical_lines(text)) == [
        (1, "a"),
        (4, "b>=1 ,<2"),
        (6, "c @ https://h/c-1.0.tar.gz#sha256=ab"),
    ]


def test_requirements_with_options_and_includes(tmp_path: Path) -> None:
    (tmp_path / "base.in").write_text("b[x]>=1; python_version >= '3'\n")
    (tmp_path / "c.txt").write_text("b<3\n")
    inputs = read(
        tmp_path,
        "-r base.in\n-c c.txt\n--index-url https://i/simple\n--extra-index-url=https://e/simple\n"
        "-f ./wheels\n--pre\n--only-binary :all:\n--no-binary b\na\n",
    )
    assert [r.source for r in inputs.requirements] == ["base.in:1", "requirements.in:9"]
    assert str(inputs.requirements[0].requirement) == 'b[x]>=1; python_version >= "3"'
    assert [str(c.requirement) for c in inputs.constraints] == ["b<3"]
    assert inputs.index == IndexConfig("https://i/simple", ("https://e/simple",), (str(tmp_path / "wheels"),))
    assert inputs.options == ResolverOptions(
        pre=True, only_binary=frozenset({ALL}), no_binary=frozenset({"b"})
    )
    assert [p.name for p in inputs.files] == ["requirements.in", "base.in", "c.txt"]
    assert inputs.options.allows_wheel("b") is False and inputs.options.allows_sdist("b") is True
    assert inputs.options.allows_sdist("a") is False


def test_env_var_expansion(tmp_path: Path) -> None:
    inputs = read(
        tmp_path,
        "--index-url https://${USER_X}:${TOKEN}@h/simple\na==${VER}\n",
        {"USER_X": "u", "TOKEN": "t", "VER": "1.0"},
    )
    assert inputs.index.index_url == "https://u:t@h/simple"
    assert str(inputs.requirements[0].requirement) == "a==1.0"


def test_unset_env_var_names_line(tmp_path: Path) -> None:
    with pytest.raises(RequirementsFileError, match=r"requirements.in:2: environment variable NOPE"):
        read(tmp_path, "a\nb==${NOPE}\n")


def test_invalid_requirement_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(RequirementsFileError) as info:
        read(tmp_path, "a\n\nfastapi>>=1\n")
    assert info.value.message.startswith("requirements.in:3: invalid requirement 'fastapi>>=1':")
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "line",
    [
        "-e .",
        "--editable ./x",
        "git+https://h/r.git",
        "r @ git+https://h/r.git",
        "./local",
        "/abs/dir",
        "r @ file:///tmp/r-1.0.tar.gz",
        "a==1 --hash=sha256:00",
    ],
)
def test_not_supported_yet(tmp_path: Path, line: str) -> None:
    with pytest.raises(UnsupportedError, match=r"requirements.in:1: .* not supported yet"):
        read(tmp_path, line + "\n")


def test_unknown_option_and_missing_include(tmp_path: Path) -> None:
    with pytest.raises(
        RequirementsFileError, match=r"requirements.in:1: unknown or unsupported option .--bogus."
    ):
        read(tmp_path, "--bogus x\n")
    with pytest.raises(RequirementsFileError, match=r"nope.in: file not found"):
        read(tmp_path, "-r nope.in\n")


def test_include_cycle(tmp_path: Path) -> None:
    (tmp_path / "b.in").write_text("-r requirements.in\n")
    with pytest.raises(RequirementsFileError, match="includes itself"):
        read(tmp_path, "-r b.in\n")


def test_direct_urls(tmp_path: Path) -> None:
    inputs = read(
        tmp_path,
        "https://h/p/pkg_a-1.0-py3-none-any.whl#sha256=AB12\nb @ https://h/b-2.0.tar.gz\n",
    )
    first, second = inputs.requirements
    assert first.name == "pkg-a" and first.url_sha256 == "ab12"
    assert second.name == "b" and second.url_sha256 is None


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


def test_tool_settings() -> None:
    data = {"tool": {"envlock": {"index-url": "https://i", "pre": True, "only-binary": [":all:"]}}}
    settings = read_tool_settings(data, "pyproject.toml")
    assert settings.index_url == "https://i" and settings.pre and settings.only_binary == (":all:",)
    with pytest.raises(RequirementsFileError, match="unknown setting"):
        read_tool_settings({"tool": {"envlock": {"bogus": 1}}}, "pyproject.toml")
    with pytest.raises(RequirementsFileError, match="pre must be bool"):
        read_tool_settings({"tool": {"envlock": {"pre": "yes"}}}, "pyproject.toml")


def test_fingerprint_ignores_order_comments_and_credentials(tmp_path: Path) -> None:
    one = read(tmp_path, "# hi\nA>=1\nb\n")
    two = read(tmp_path, "b  # why\na>=1\n", name="other.in")
    index = IndexConfig("https://user:secret@h/simple")
    same_index = IndexConfig("https://other:pw@h/simple")
    opts = ResolverOptions()
    assert fingerprint(one, index=index, options=opts, target=TARGET) == fingerprint(
        two, index=same_index, options=opts, target=TARGET
    )
    changed = read(tmp_path, "a>=2\nb\n", name="third.in")
    base = fingerprint(one, index=index, options=opts, target=TARGET)
    assert fingerprint(changed, index=index, options=opts, target=TARGET) != base
    assert fingerprint(one, index=index, options=ResolverOptions(pre=True), target=TARGET) != base
    assert fingerprint(one, index=index, options=opts, target={**TARGET, "python_version": "3.12"}) != base
    assert fingerprint(one, index=IndexConfig("https://x/simple"), options=opts, target=TARGET) != base


def test_project_defaults_lock_and_venv_relative_to_pyproject(tmp_path: Path) -> None:
    assert project_defaults(tmp_path / "pyproject.toml") == {}
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n[tool.envlock]\nlock = "locks/dev.toml"\nvenv = ".venv-dev"\npre = true\n'
    )
    found = project_defaults(tmp_path / "pyproject.toml")
    assert found == {"lock": str(tmp_path / "locks/dev.toml"), "venv": str(tmp_path / ".venv-dev")}
    settings = read_tool_settings({"tool": {"envlock": {"lock": "l.toml", "venv": "v"}}}, "pyproject.toml")
    assert settings.lock == "l.toml" and settings.venv == "v"
    (tmp_path / "pyproject.toml").write_text("[tool.envlock]\nlock = 3\n")
    with pytest.raises(InputError, match=r"\[tool.envlock\] lock must be a string"):
        project_defaults(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text("[tool.envlock\n")
    with pytest.raises(InputError, match="cannot read"):
        project_defaults(tmp_path / "pyproject.toml")


def test_constraint_and_requirement_files_from_urls(tmp_path: Path) -> None:
    pages = {
        "https://files.example/c/constraints.txt": "b<2\n-c more.txt\n",
        "https://files.example/c/more.txt": "c==1.0\n",
        "https://files.example/loop.txt": "-r https://files.example/loop.txt\n",
    }
    fetched: list[str] = []

    def fetch(url: str) -> str:
        fetched.append(url)
        return pages[url.replace("user:pw@", "")]

    (tmp_path / "requirements.in").write_text("a\n-c https://user:pw@files.example/c/constraints.txt\n")
    inputs = read_requirements_files([tmp_path / "requirements.in"], {}, base=tmp_path, fetch=fetch)
    assert [str(c.requirement) for c in inputs.constraints] == ["b<2", "c==1.0"]
    assert [c.source for c in inputs.constraints] == [
        "https://files.example/c/constraints.txt:1",
        "https://files.example/c/more.txt:1",
    ]
    assert inputs.files == (tmp_path / "requirements.in",)  # URLs are not input files
    assert fetched[0] == "https://user:pw@files.example/c/constraints.txt"
    with pytest.raises(NeedsNetworkError, match="need the network"):
        read_requirements_files([tmp_path / "requirements.in"], {}, base=tmp_path)
    (tmp_path / "requirements.in").write_text("-r https://files.example/loop.txt\n")
    with pytest.raises(RequirementsFileError, match="includes itself"):
        read_requirements_files([tmp_path / "requirements.in"], {}, base=tmp_path, fetch=fetch)


def test_fingerprint_of_local_find_links_is_relative_to_the_inputs(tmp_path: Path) -> None:
    prints = []
    for checkout in (tmp_path / "one", tmp_path / "two"):
        checkout.mkdir()
        (checkout / "wheels").mkdir()
        inputs = read(checkout, "--find-links wheels\na\n")
        assert inputs.index.find_links == (str(checkout / "wheels"),)  # absolute for the index client
        prints.append(fingerprint(inputs, index=inputs.index, options=ResolverOptions(), target=TARGET))
    assert prints[0] == prints[1]
    elsewhere = IndexConfig(find_links=(str(tmp_path / "one" / "elsewhere"),))
    assert fingerprint(inputs, index=elsewhere, options=ResolverOptions(), target=TARGET) != prints[0]


def test_index_url_option_lines_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"requirements.in:2: invalid index URL 'pypi.org/simple'"):
        read(tmp_path, "a\n--extra-index-url pypi.org/simple\n")
