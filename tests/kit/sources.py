"""Sources for tests of local, editable and git dependencies: project folders with a real build backend
(setuptools, hatchling, flit-core: the wheels in ``backends/``, served by the kit's index) and git
repositories made with the real git, served as ``git+file://``."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.kit import _builder
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex

BACKENDS = Path(__file__).parent / "backends"

_BUILD_SYSTEMS = {
    "setuptools": ('["setuptools>=64"]', "setuptools.build_meta"),
    "hatchling": ('["hatchling"]', "hatchling.build"),
    "flit": ('["flit_core>=3.4"]', "flit_core.buildapi"),
}


def publish_backends(index: KitIndex) -> None:
    """Serve setuptools, flit-core and hatchling (with packaging, pathspec, pluggy, tomlkit,
    trove-classifiers and, for Python < 3.11, tomli)."""
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


_COUNTING_BACKEND = '''"""The kit's backend (kit_builder); each hook call appended to calls.log beside
it, a warning raised by each build (as setuptools' editable-install banner is)."""
import os
import warnings

import kit_builder
from kit_builder import get_requires_for_build_sdist, get_requires_for_build_wheel  # noqa: F401


def _counted(hook):
    def call(*args, **kwargs):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.log"), "a") as log:
            log.write(hook + "\\n")
        if hook.startswith("build_"):  # as setuptools' editable-install banner is
            warnings.warn("kit backend banner: " + hook)
        return getattr(kit_builder, hook.replace("editable", "wheel"))(*args, **kwargs)

    return call


prepare_metadata_for_build_wheel = _counted("prepare_metadata_for_build_wheel")
prepare_metadata_for_build_editable = _counted("prepare_metadata_for_build_editable")
build_wheel = _counted("build_wheel")
build_editable = _counted("build_editable")
'''


def make_counted_project(root: Path, spec: DistSpec, *, pyproject_extra: str = "") -> Path:
    """A project folder built by the kit's own backend (in-tree, no build requirements) from
    ``kit-spec.json`` (``spec``), which logs every hook it runs (``backend_calls``): how tests count
    builds. ``pyproject_extra`` is appended to its pyproject.toml (e.g. a ``[tool.envlock]`` table)."""
    backend = root / "_kit_backend"
    backend.mkdir(parents=True, exist_ok=True)
    (backend / "kit_builder.py").write_bytes(Path(_builder.__file__).read_bytes())
    (backend / "kit_backend.py").write_text(_COUNTING_BACKEND, encoding="utf-8")
    write_counted_spec(root, spec)
    text = (
        _builder.pyproject_text()
        + f'\n[project]\nname = "{spec.name}"\ndynamic = ["version", "dependencies"]\n'
    )
    (root / "pyproject.toml").write_text(text + pyproject_extra, encoding="utf-8")
    return root


def write_counted_spec(root: Path, spec: DistSpec) -> None:
    """What the project of ``make_counted_project`` builds (its ``kit-spec.json``)."""
    (root / _builder.SPEC_FILE).write_text(json.dumps(spec.to_kit_spec(), sort_keys=True), encoding="utf-8")


def backend_calls(root: Path) -> list[str]:
    """The hooks the backend of ``make_counted_project`` ran, in order."""
    log = root / "_kit_backend" / "calls.log"
    return log.read_text(encoding="utf-8").split() if log.is_file() else []


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


def bare_copy(repo: Path, into: Path) -> Path:
    """A bare clone of ``repo`` ready for git's "dumb" HTTP transport (``update-server-info``)."""
    subprocess.run(
        ["git", "clone", "--quiet", "--bare", str(repo), str(into)],
        env={"PATH": os.environ.get("PATH", ""), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"},
        check=True,
        capture_output=True,
    )
    git(into, "update-server-info")
    return into


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on 127.0.0.1 (a bare repository there is a git remote over the
    dumb HTTP transport); yields the base URL, stops the server after."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None
