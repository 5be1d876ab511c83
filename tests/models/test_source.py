"""The source value and its checks (``envlock.sources``): git URLs and refs that git could read as
options are refused, credentials never reach the public URL, a folder's identity follows its contents
(plain) or its build configuration (editable), and a lock's directory / vcs entries are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.pylock import PackageDirectory, PackageVcs

from envlock.errors import LockFileError
from envlock.lock.sourced import identity, sourced
from envlock.models.source import VCS, BadSource, from_url, local
from envlock.sources import tree

COMMIT = "a" * 40


@pytest.mark.parametrize(
    "url",
    [
        "git+ssh://-oProxyCommand=touch%20x/repo",
        "git+ssh://-oProxyCommand=x@host/repo",
        "git+https://host/repo@-n",
        "git+https://host/repo@--upload-pack=x",
        "git+ext::sh -c x",
        "git+git://host/repo",
        "git+https:///repo",
        "git+https://host/repo#subdirectory=../up",
    ],
)
def test_git_urls_that_could_be_options_or_escapes_are_refused(url: str) -> None:
    with pytest.raises(BadSource):
        from_url(url)


def test_public_url_drops_tokens_and_keeps_the_ssh_user() -> None:
    https = from_url("git+https://user:tok3n@host/r.git@v1")
    assert https.kind == VCS and https.public_url == "https://host/r.git" and https.revision == "v1"
    assert "tok3n" not in https.shown() and "tok3n" not in (https.with_commit(COMMIT).key() or "")
    assert from_url("git+ssh://git@host/r.git@main").public_url == "ssh://git@host/r.git"
    assert from_url("git+file:///srv/r").url == "file:///srv/r"


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    (root / "pkg" / "__init__.py").write_text("A = 1\n")
    return root


def test_a_plain_folder_is_its_contents_an_editable_one_its_configuration(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    plain, editable = tree.content_digest(root), tree.editable_key(root)
    for leftover in ("build/lib/x.py", "p.egg-info/PKG-INFO", "pkg/__pycache__/a.pyc", ".git/HEAD"):
        (root / leftover).parent.mkdir(parents=True, exist_ok=True)
        (root / leftover).write_text("x")
    assert tree.content_digest(root) == plain  # build output, bytecode, VCS data: no change
    (root / "pkg" / "__init__.py").write_text("A = 2\n")
    assert tree.content_digest(root) != plain and tree.editable_key(root) == editable
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\ndependencies = ["x"]\n')
    assert tree.editable_key(root) != editable
    copied = tree.copy_project(root, tmp_path / "copy")
    assert tree.content_digest(copied) == tree.content_digest(root) and not (copied / "build").exists()


def test_lock_entries_are_checked_where_they_enter(tmp_path: Path) -> None:
    lock = _project(tmp_path / "proj") / "pylock.toml"
    good = sourced(PackageDirectory(path=".", editable=True), "p", lock)
    assert good.path == lock.parent and good.editable and identity(good) == tree.editable_key(lock.parent)
    assert local(lock.parent).kind == "directory"
    bad = [
        PackageDirectory(path=str(tmp_path / "proj")),  # absolute
        PackageDirectory(path="missing"),
        PackageVcs(type="git", url="ssh://-oProxyCommand=x/r", commit_id=COMMIT),
        PackageVcs(type="git", url="https://h/r", commit_id="abc"),
        PackageVcs(type="hg", url="https://h/r", commit_id=COMMIT),
        PackageVcs(type="git", url="https://h/r", commit_id=COMMIT, subdirectory="../x"),
    ]
    for entry in bad:
        with pytest.raises(LockFileError, match=r"package 'p'"):
            sourced(entry, "p", lock)
