"""requirements*.in files (pip syntax): option lines, includes and constraints (local and by URL), ${VAR}
expansion, direct URLs, and what is not supported yet; every error names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.errors import InputError, NeedsNetworkError, RequirementsFileError
from envlock.inputs.config import ALL, IndexConfig, ResolverOptions
from envlock.inputs.requirements_file import read_requirements_files


def read(tmp: Path, text: str, env: dict[str, str] | None = None, name: str = "requirements.in"):  # type: ignore[no-untyped-def]
    path = tmp / name
    path.write_text(text)
    return read_requirements_files([path], env or {}, base=tmp)


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
    ("line", "needle"),
    [
        ("-e .", r"requirements.in:1: .* is not a Python project \(no pyproject.toml or setup.py\)"),
        ("--editable ./x", r"requirements.in:1: .*/x does not exist"),
        ("git+https://h/r.git", r"requirements.in:1: a git requirement needs its project name"),
        ("-e git+https://h/r.git#egg=r", r"requirements.in:1: editable VCS requirements are not supported"),
        ("hg+https://h/r", r"requirements.in:1: VCS requirements other than git are not supported yet"),
        ("r @ git+git://h/r.git", r"requirements.in:1: .*only git is supported"),
        ("r @ git+https://h/r.git@--upload-pack=x", r"is not a branch, tag or commit"),
        ("./local", r"requirements.in:1: .*/local does not exist"),
        ("/abs/dir", r"requirements.in:1: /abs/dir does not exist"),
        ("r @ file:///tmp/r-1.0.tar.gz", r"requirements.in:1: /tmp/r-1.0.tar.gz does not exist"),
        ("a==1 --hash=sha256:00", r"requirements.in:1: --hash options in input files are not supported yet"),
    ],
)
def test_sources_are_checked_where_they_are_read(tmp_path: Path, line: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        read(tmp_path, line + "\n")


def test_sources_become_requirements_with_their_origin(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pyproject.toml").write_text('[project]\nname = "My_App"\nversion = "1"\n')
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "setup.py").write_text("")
    (tmp_path / "old" / "setup.cfg").write_text("[metadata]\nname = old-lib\n")
    inputs = read(
        tmp_path,
        "-e ./app[extra]\n./old ; python_version >= '3'\nr @ git+https://tok@h/r.git@v1#subdirectory=s\n",
    )
    app, old, vcs = inputs.requirements
    assert str(app.requirement) == f"my-app[extra] @ {(tmp_path / 'app').as_uri()}"
    assert app.origin is not None and app.origin.editable and app.origin.path == tmp_path / "app"
    assert old.requirement.name == "old-lib" and old.origin is not None and not old.origin.editable
    assert str(old.requirement.marker) == 'python_version >= "3"'
    assert vcs.origin is not None and vcs.origin.revision == "v1" and vcs.origin.subdirectory == "s"
    assert vcs.origin.public_url == "https://h/r.git"
    # The fingerprint sees folders relative to the input, and never the token.
    assert app.normalized(tmp_path).startswith("my-app[extra] @ app#config=")
    assert vcs.normalized(tmp_path) == "r @ git+https://h/r.git@v1#subdirectory=s"


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


def test_index_url_option_lines_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"requirements.in:2: invalid index URL 'pypi.org/simple'"):
        read(tmp_path, "a\n--extra-index-url pypi.org/simple\n")


def test_find_links_with_a_nul_character_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"requirements.in:2: 'wheels\\x00x' is not a path"):
        read(tmp_path, "a\n--find-links wheels\x00x\n")
