"""git dependencies end to end through the CLI, against real repositories made by the test: a tag
resolved to its commit once and kept until ``-P``, ``#subdirectory=``, the exact commit installed with
PEP 610 ``vcs_info``, and a token in the URL that reaches no lock, stamp, message or export."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sources import bare_copy, commit_all, git, make_project, publish_backends, serve_folder
from tests.kit.venvs import venv_python

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


@pytest.fixture
def index(kit_index: KitIndex) -> KitIndex:
    publish_backends(kit_index)
    kit_index.publish(DistSpec("beta", "1.0"))
    return kit_index


def _vcs(lock: Path, name: str) -> dict[str, str]:
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    return next(p for p in data["packages"] if p["name"] == name)["vcs"]


def _run_in(venv: Path, code: str) -> str:
    result = subprocess.run(
        [str(venv_python(venv)), "-I", "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_a_tag_is_locked_as_its_commit_and_kept_until_upgraded(
    tmp_path: Path, index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    repo = tmp_path / "repo"
    make_project(repo / "sub", "lib", dependencies=("beta",), code="VALUE = 1\n")
    first = commit_all(repo, "one")
    git(repo, "tag", "v1")
    (isolated / "requirements.in").write_text(
        f"lib @ git+{repo.as_uri()}@v1#subdirectory=sub\n", encoding="utf-8"
    )
    env = {"ENVLOCK_INDEX_URL": index.url}
    assert run_envlock("compile", "--index-url", index.url, check=True).returncode == 0
    lock = isolated / "pylock.toml"
    assert _vcs(lock, "lib") == {
        "type": "git",
        "url": repo.as_uri(),
        "requested-revision": "v1",
        "commit-id": first,
        "subdirectory": "sub",
    }
    assert run_envlock("sync", env=env, check=True).returncode == 0
    venv = isolated / ".venv"
    assert _run_in(venv, "import lib; print(lib.VALUE)") == "1"
    direct = json.loads(
        _run_in(
            venv, "import importlib.metadata as m; print(m.distribution('lib').read_text('direct_url.json'))"
        )
    )
    assert direct == {
        "url": repo.as_uri(),
        "vcs_info": {"vcs": "git", "commit_id": first, "requested_revision": "v1"},
        "subdirectory": "sub",
    }

    # The tag moves: the lock keeps its commit (a forced recompile too) until -P frees the package.
    (repo / "sub" / "lib" / "__init__.py").write_text("VALUE = 2\n", encoding="utf-8")
    second = commit_all(repo, "two")
    git(repo, "tag", "--force", "v1")
    assert run_envlock("compile", "--index-url", index.url, "-P", "beta", check=True).returncode == 0
    assert _vcs(lock, "lib")["commit-id"] == first
    assert run_envlock("compile", "--index-url", index.url, "-P", "lib", check=True).returncode == 0
    assert _vcs(lock, "lib")["commit-id"] == second
    assert run_envlock("sync", env=env, check=True).returncode == 0
    assert _run_in(venv, "import lib; print(lib.VALUE)") == "2"
    exported = run_envlock("export", check=True).stdout
    assert f"lib @ git+{repo.as_uri()}@{second}#subdirectory=sub" in exported


def test_a_token_in_the_url_is_used_and_never_written(
    tmp_path: Path, index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    repo = tmp_path / "repo"
    make_project(repo, "lib", code="VALUE = 1\n")
    commit = commit_all(repo, "one")
    git(repo, "tag", "v1")
    served = tmp_path / "served"
    served.mkdir()
    bare_copy(repo, served / "lib.git")
    secret = "s3cr3t-t0ken"
    with serve_folder(served) as host:
        url = f"git+http://{secret}@{host}/lib.git@v1"
        (isolated / "requirements.in").write_text(f"lib @ {url}\n", encoding="utf-8")
        env = {"ENVLOCK_INDEX_URL": index.url}
        compiled = run_envlock("-v", "compile", "--index-url", index.url, check=True)
        synced = run_envlock("-v", "sync", env=env, check=True)
        exported = run_envlock("export", check=True)
        checked = run_envlock("-v", "check")
        # A ref that does not exist: the error names the repository, without the token.
        (isolated / "bad.in").write_text(f"lib @ git+http://{secret}@{host}/lib.git@nope\n", encoding="utf-8")
        failed = run_envlock("compile", "bad.in", "-o", "bad.toml", "--index-url", index.url)
    assert failed.returncode == 1 and f"http://{host}/lib.git" in failed.stderr, failed.stderr
    lock_text = (isolated / "pylock.toml").read_text(encoding="utf-8")
    assert _vcs(isolated / "pylock.toml", "lib")["url"] == f"http://{host}/lib.git"
    assert _vcs(isolated / "pylock.toml", "lib")["commit-id"] == commit
    stamp = (isolated / ".venv" / ".envlock" / "stamp.json").read_text(encoding="utf-8")
    site = next((isolated / ".venv").glob("lib/python*/site-packages/lib-1.0.dist-info"))
    installed = "".join(p.read_text(encoding="utf-8") for p in site.iterdir() if p.is_file())
    outputs = [
        compiled.stdout,
        compiled.stderr,
        synced.stdout,
        synced.stderr,
        exported.stdout,
        exported.stderr,
    ]
    outputs += [checked.stdout, checked.stderr, failed.stdout, failed.stderr, lock_text, stamp, installed]
    assert not [text for text in outputs if secret in text]
