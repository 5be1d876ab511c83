"""Sources for tests of local, editable and git dependencies: project folders with a real build backend
(setuptools, hatchling, flit-core: the wheels in ``backends/``, served by the kit's index) and git
repositories made with the real git, served as ``git+file://``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.kit.index import KitIndex

BACKENDS = Path(__file__).parent / "backends"

_BUILD_SYSTEMS = {
    "setuptools": ('["setuptools>=64"]', "setuptools.build_meta"),
    "hatchling": ('["hatchling"]', "hatchling.build"),
    "flit": ('["flit_core>=3.4"]', "flit_core.buildapi"),
}


def publish_backends(index: KitIndex) -> None:
    """Serve setuptools, hatchling (with packaging, pathspec, pluggy, tomlkit, trove-classifiers) and flit-core."""
    for wheel in sorted(BACKENDS.glob("*.whl")):
        index.add_file(wheel)


def make_project(
    root: Path,
    name: str,
    version: str = "1.0",
    *,
    backend: str = "setuptools",
    dependencies: Sequence[str] = (),
    code: str = "VALUE = 1\n",
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """A project folder ``root`` with a ``[project]`` table and a module named after the project
    (``{module}/__init__.py`` containing ``code``), built by ``backend``."""
    module = name.replace("-", "_")
    requires, build_backend = _BUILD_SYSTEMS[backend]
    deps = ", ".join(f'"{d}"' for d in dependencies)
    description = '\ndescription = "test project"' if backend == "flit" else ""
    text = (
        f'[build-system]\nrequires = {requires}\nbuild-backend = "{build_backend}"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"{description}\ndependencies = [{deps}]\n'
    )
    if backend == "setuptools":
        text += f'\n[tool.setuptools]\npackages = ["{module}"]\n'
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    (root / module).mkdir(exist_ok=True)
    (root / module / "__init__.py").write_text(code, encoding="utf-8")
    for relative, content in (extra_files or {}).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(content, encoding="utf-8")
    return root


def git(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo`` with no user configuration; stdout."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(repo),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "kit",
        "GIT_AUTHOR_EMAIL": "kit@example.invalid",
        "GIT_COMMITTER_NAME": "kit",
        "GIT_COMMITTER_EMAIL": "kit@example.invalid",
    }
    result = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Commit every file of ``repo`` (made a repository on first use); the new commit id."""
    if not (repo / ".git").is_dir():
        git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")
