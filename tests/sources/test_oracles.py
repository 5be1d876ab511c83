"""pip-compile as an oracle for project folders and git sources (offline, against the kit index): the
same ``requirements.in`` locks to the same index pins, and ``envlock import`` of pip-compile's output
(``-e file:///...``, ``name @ file:///...``, ``name @ git+...``) syncs to the same set."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sources import commit_all, git, make_project, publish_backends

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


def _pip_compile(folder: Path, index: KitIndex) -> str:
    if importlib.util.find_spec("piptools") is None:
        pytest.skip("pip-tools is not installed in the dev venv")
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1", "PIP_INDEX_URL": index.url}
    result = subprocess.run(
        [sys.executable, "-m", "piptools", "compile", "--no-config", "--quiet", "--generate-hashes",
         "--index-url", index.url, "--cache-dir", str(folder / "pip-tools-cache"),
         "-o", "requirements.txt", "requirements.in"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return (folder / "requirements.txt").read_text(encoding="utf-8")


def _locked(lock: Path) -> dict[str, str]:
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {p["name"]: str(p.get("version", "")) for p in data["packages"]}


def test_same_pins_as_pip_compile_and_its_output_imports(
    tmp_path: Path, kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    publish_backends(kit_index)
    kit_index.publish(DistSpec("beta", "1.0"), DistSpec("beta", "2.0"), DistSpec("delta", "1.5"))
    make_project(isolated, "app", dependencies=("common", "beta"))
    make_project(isolated / "libs" / "common", "common", backend="hatchling", dependencies=("beta<2",))
    repo = tmp_path / "repo"
    make_project(repo, "lib", dependencies=("delta",))
    commit = commit_all(repo, "one")
    git(repo, "tag", "v1")
    (isolated / "requirements.in").write_text(
        f"-e .\n./libs/common\nlib @ git+{repo.as_uri()}@v1\n", encoding="utf-8"
    )
    theirs = _pip_compile(isolated, kit_index)
    assert run_envlock("compile", "--index-url", kit_index.url, check=True).returncode == 0
    ours = _locked(isolated / "pylock.toml")
    assert ours == {"app": "", "beta": "1.0", "common": "", "delta": "1.5", "lib": "1.0"}
    for name in ("beta==1.0", "delta==1.5"):
        assert name in theirs
    assert "-e file://" in theirs and "common @ file://" in theirs and "lib @ git+file:" in theirs

    imported = run_envlock("import", "requirements.txt", "-o", "imported.toml", "--index-url", kit_index.url)
    assert imported.returncode == 0, imported.stderr
    data = tomllib.loads((isolated / "imported.toml").read_text(encoding="utf-8"))
    by_name = {p["name"]: p for p in data["packages"]}
    assert by_name["app"]["directory"] == {"path": ".", "editable": True}
    assert by_name["common"]["directory"] == {"path": "libs/common"}
    assert (
        by_name["lib"]["vcs"]["commit-id"] == commit and by_name["lib"]["vcs"]["requested-revision"] == "v1"
    )
    synced = run_envlock("sync", "imported.toml", env={"ENVLOCK_INDEX_URL": kit_index.url})
    assert synced.returncode == 0, synced.stderr
