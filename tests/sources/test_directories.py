"""Project folders as dependencies, end to end through the CLI: ``-e .``, ``./libs/common``, ``NAME @
file:///...`` and the pyproject project itself, built by real backends from the kit's index, locked
as PEP 751 ``directory`` entries and installed (PEP 660 for editables) with ``direct_url.json``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sources import make_project, publish_backends
from tests.kit.venvs import venv_python

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


@pytest.fixture
def index(kit_index: KitIndex) -> KitIndex:
    publish_backends(kit_index)
    kit_index.publish(DistSpec("beta", "1.0"), DistSpec("beta", "2.0"))
    return kit_index


def _packages(lock: Path) -> dict[str, dict[str, object]]:
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {p["name"]: p for p in data["packages"]}


def _run_in(venv: Path, code: str) -> str:
    result = subprocess.run(
        [str(venv_python(venv)), "-I", "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _direct_url(venv: Path, name: str) -> dict[str, object]:
    text = _run_in(
        venv, f"import importlib.metadata as m; print(m.distribution({name!r}).read_text('direct_url.json'))"
    )
    return dict(json.loads(text))


def test_editable_and_plain_folders_lock_and_sync(
    tmp_path: Path, index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    app = isolated
    make_project(app, "app", dependencies=("common",), code="from common import VALUE\n")
    make_project(app / "libs" / "common", "common", backend="hatchling", dependencies=("beta<2",))
    (app / "requirements.in").write_text("-e .\n./libs/common\n", encoding="utf-8")
    env = {"ENVLOCK_INDEX_URL": index.url}
    compiled = run_envlock("compile", "--index-url", index.url, env=env)
    assert compiled.returncode == 0, compiled.stderr
    packages = _packages(app / "pylock.toml")
    assert packages["app"]["directory"] == {"path": ".", "editable": True}
    assert packages["common"]["directory"] == {"path": "libs/common"}
    assert "version" not in packages["app"] and str(packages["beta"]["version"]) == "1.0"
    assert str(tmp_path) not in (app / "pylock.toml").read_text(encoding="utf-8")

    synced = run_envlock("sync", env=env)
    assert synced.returncode == 0, synced.stderr
    venv = app / ".venv"
    assert _run_in(venv, "import app, common; print(common.VALUE)") == "1"
    assert _direct_url(venv, "app") == {"url": app.resolve().as_uri(), "dir_info": {"editable": True}}
    assert _direct_url(venv, "common") == {"url": (app / "libs/common").resolve().as_uri(), "dir_info": {}}
    assert run_envlock("check").returncode == 0

    # Editable: the working tree is what the venv imports; an edit is no drift and needs no sync.
    (app / "app" / "__init__.py").write_text("from common import VALUE\nEDITED = True\n", encoding="utf-8")
    assert _run_in(venv, "import app; print(app.EDITED)") == "True"
    assert run_envlock("check").returncode == 0
    # Not editable: a changed file makes the next sync reinstall the folder.
    (app / "libs/common/common/__init__.py").write_text("VALUE = 2\n", encoding="utf-8")
    resynced = run_envlock("sync", env=env)
    assert resynced.returncode == 0, resynced.stderr
    assert _run_in(venv, "import common; print(common.VALUE)") == "2"
    again = run_envlock("sync", "--json", env=env)
    assert (
        json.loads(again.stdout)["counts"]["installed"] + json.loads(again.stdout)["counts"]["replaced"] == 0
    )


def test_the_pyproject_project_itself_is_installed_editable(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    make_project(isolated, "svc", backend="flit", dependencies=("beta",), code='"""svc."""\nVALUE = 1\n')
    env = {"ENVLOCK_INDEX_URL": index.url}
    assert run_envlock("compile", "--index-url", index.url, check=True).returncode == 0
    packages = _packages(isolated / "pylock.toml")
    assert packages["svc"]["directory"] == {"path": ".", "editable": True}
    assert run_envlock("sync", env=env, check=True).returncode == 0
    assert _run_in(isolated / ".venv", "import svc, beta; print(svc.VALUE)") == "1"
    # install-project = false: only the dependencies.
    pyproject = isolated / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.envlock]\ninstall-project = false\n")
    assert run_envlock("compile", "--index-url", index.url, check=True).returncode == 0
    assert set(_packages(isolated / "pylock.toml")) == {"beta"}


def test_local_archives_are_locked_by_path_and_hash(
    tmp_path: Path, index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    from tests.kit.dists import build_wheel

    wheel = build_wheel(DistSpec("gamma", "3.0", requires=("beta",)), isolated / "dist")
    (isolated / "requirements.in").write_text("./dist/" + wheel.name + "\n", encoding="utf-8")
    assert run_envlock("compile", "--index-url", index.url, check=True).returncode == 0
    archive = _packages(isolated / "pylock.toml")["gamma"]["archive"]
    assert archive["path"] == f"dist/{wheel.name}" and set(archive["hashes"]) == {"sha256"}
    assert run_envlock("sync", check=True).returncode == 0
    exported = run_envlock("export", check=True).stdout
    assert f"./dist/{wheel.name} \\\n    --hash=sha256:{archive['hashes']['sha256']}" in exported
    # A different file under the same name no longer matches the lock's hash: a sync that has not
    # cached the locked bytes yet refuses it.
    build_wheel(
        DistSpec("gamma", "3.0", requires=("beta",), files={"gamma/x.py": b"X = 1\n"}), isolated / "dist"
    )
    refused = run_envlock("sync", "--rebuild", env={"ENVLOCK_CACHE_DIR": str(tmp_path / "fresh-cache")})
    assert refused.returncode == 1 and "sha256" in refused.stderr, refused.stderr


@pytest.mark.parametrize(
    ("setup", "line", "needle"),
    [
        ("empty", "./empty", "empty is not a Python project (no pyproject.toml or setup.py)"),
        ("broken", "-e ./broken", "broken: the build backend (setuptools.build_meta) failed while"),
        ("nameless", "./nameless", "cannot tell the project name of"),
    ],
)
def test_bad_folders_are_named(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path, setup: str, line: str, needle: str
) -> None:
    folder = isolated / setup
    folder.mkdir()
    if setup == "broken":
        make_project(folder, "broken")
        (folder / "setup.py").write_text("raise SystemExit('this build is broken on purpose')\n")
    elif setup == "nameless":
        (folder / "setup.py").write_text("")
    (isolated / "requirements.in").write_text(line + "\n", encoding="utf-8")
    failed = run_envlock("compile", "--index-url", index.url)
    assert failed.returncode in (1, 2) and needle in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    if setup == "broken":
        assert "this build is broken on purpose" in failed.stderr


def test_a_folder_outside_the_lock_is_named_relative_with_a_warning(
    tmp_path: Path, index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    make_project(tmp_path / "sibling", "sibling")
    (isolated / "requirements.in").write_text("../sibling\n", encoding="utf-8")
    compiled = run_envlock("compile", "--index-url", index.url, check=True)
    assert "sibling: ../sibling is outside the lock's folder" in compiled.stderr
    assert _packages(isolated / "pylock.toml")["sibling"]["directory"] == {"path": "../sibling"}
    assert run_envlock("sync", env={"ENVLOCK_INDEX_URL": index.url}, check=True).returncode == 0


def test_a_folder_whose_dependencies_change_makes_the_lock_stale(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    make_project(isolated / "lib", "lib", dependencies=("beta<2",))
    (isolated / "requirements.in").write_text("-e ./lib\n", encoding="utf-8")
    env = {"ENVLOCK_INDEX_URL": index.url}
    assert run_envlock("compile", "--index-url", index.url, check=True).returncode == 0
    assert run_envlock("sync", env=env, check=True).returncode == 0
    # Code edits are not a change of the inputs; a new dependency in the folder's pyproject.toml is.
    (isolated / "lib" / "lib" / "__init__.py").write_text("VALUE = 3\n", encoding="utf-8")
    assert run_envlock("compile", "--check", "--index-url", index.url).returncode == 0
    make_project(isolated / "lib", "lib", dependencies=("beta<2", "gamma"), code="VALUE = 3\n")
    stale = run_envlock("compile", "--check", "--index-url", index.url)
    assert stale.returncode == 1, stale.stderr
    checked = run_envlock("check")
    assert checked.returncode == 1 and "changed since pylock.toml was compiled" in checked.stderr
    refused = run_envlock("sync", env=env)
    assert refused.returncode == 1 and "lib" in refused.stderr and "envlock compile" in refused.stderr


def test_a_cache_keys_file_edit_makes_the_lock_stale_and_reinstalls_the_editable(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    """Dependencies read from a file (setuptools' dynamic ``file``) that ``[tool.envlock] cache-keys``
    lists: editing that file is an input change for compile's fingerprint, ``check`` and sync, as an
    edit of the folder's pyproject.toml is; sync then reinstalls the editable with its new metadata."""
    lib = isolated / "lib"
    make_project(lib, "lib")
    text = (lib / "pyproject.toml").read_text().replace("dependencies = []", 'dynamic = ["dependencies"]')
    text += '\n[tool.setuptools.dynamic]\ndependencies = {file = ["deps.txt"]}\n'
    (lib / "pyproject.toml").write_text(text + '\n[tool.envlock]\ncache-keys = ["deps.txt"]\n')
    (lib / "deps.txt").write_text("beta<2\n")
    (isolated / "requirements.in").write_text("-e ./lib\n", encoding="utf-8")
    env = {"ENVLOCK_INDEX_URL": index.url}
    run_envlock("compile", "--index-url", index.url, check=True)
    run_envlock("sync", env=env, check=True)
    assert str(_packages(isolated / "pylock.toml")["beta"]["version"]) == "1.0"
    assert run_envlock("check").returncode == 0

    (lib / "deps.txt").write_text("beta>=2\n")
    checked = run_envlock("check")
    assert checked.returncode == 1 and "changed since pylock.toml was compiled" in checked.stderr
    run_envlock("compile", "--index-url", index.url, check=True)  # not "kept": resolved again
    assert str(_packages(isolated / "pylock.toml")["beta"]["version"]) == "2.0"
    run_envlock("sync", env=env, check=True)
    requires = _run_in(isolated / ".venv", "import importlib.metadata as m; print(m.requires('lib'))")
    assert "beta>=2" in requires
    assert run_envlock("check").returncode == 0
    (lib / "deps.txt").write_text("beta<2\n")
    assert run_envlock("compile", "--check", "--index-url", index.url).returncode == 1


def test_an_installed_project_may_have_dynamic_dependencies(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    make_project(isolated, "dyn")
    pyproject = isolated / "pyproject.toml"
    text = pyproject.read_text().replace("dependencies = []", 'dynamic = ["dependencies"]')
    text += '\n[tool.setuptools.dynamic]\ndependencies = {file = ["deps.txt"]}\n'
    pyproject.write_text(text)
    (isolated / "deps.txt").write_text("beta<2\n")
    assert run_envlock("compile", "--index-url", index.url, check=True).returncode == 0
    packages = _packages(isolated / "pylock.toml")
    assert set(packages) == {"dyn", "beta"} and str(packages["beta"]["version"]) == "1.0"
    # Not installed: its dependencies cannot be read without a build, as before.
    pyproject.write_text(text + "\n[tool.envlock]\ninstall-project = false\n")
    refused = run_envlock("compile", "--index-url", index.url)
    assert refused.returncode == 2 and "dynamic [project] dependencies" in refused.stderr


def test_sync_takes_build_requirements_from_the_locks_index(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ENVLOCK_INDEX_URL, a sync's build venv gets its backend from the index the lock was
    compiled against (here the kit's), not from PyPI."""
    make_project(isolated / "libs" / "common", "common", backend="hatchling", dependencies=("beta<2",))
    (isolated / "requirements.in").write_text("./libs/common\n", encoding="utf-8")
    monkeypatch.delenv("ENVLOCK_INDEX_URL", raising=False)
    assert run_envlock("compile", "--index-url", index.url).returncode == 0
    index.requests.clear()
    synced = run_envlock("sync")
    assert synced.returncode == 0, synced.stderr
    assert any("/hatchling/" in request.path for request in index.requests)
    assert _run_in(isolated / ".venv", "import common; print(common.VALUE)") == "1"


def _compile_project_with_a_plugin(
    index: KitIndex, run_envlock: RunEnvlock, root: Path, needs: str
) -> dict[str, str]:
    """The shape of a CLI whose dev group holds a plugin from the index that requires the project,
    compiled with that group; the environment a sync needs."""
    index.publish(DistSpec("tool-plugin", "1.0", requires=(needs,)))
    make_project(root, "tool", "0.26a0", backend="flit", code='"""tool."""\nVALUE = 1\n')
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[dependency-groups]\ndev = ["tool-plugin"]\n')
    assert run_envlock("compile", "--index-url", index.url, "--group", "dev", check=True).returncode == 0
    return {"ENVLOCK_INDEX_URL": index.url}


def test_a_plugin_requiring_the_project_itself_syncs(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    # PEP 751 gives a directory entry no version: sync checks the plugin's requirement against the
    # version the project's build reports, not against the lock's empty one.
    env = _compile_project_with_a_plugin(index, run_envlock, isolated, "tool>=0.26a0")
    assert "version" not in _packages(isolated / "pylock.toml")["tool"]
    synced = run_envlock("sync", "--group", "dev", env=env)
    assert synced.returncode == 0, synced.stderr
    assert _run_in(isolated / ".venv", "import tool, tool_plugin; print(tool.VALUE)") == "1"
    assert run_envlock("check", env=env).returncode == 0
    # A new plugin release while the project stays installed: checked against the installed build.
    index.publish(DistSpec("tool-plugin", "1.1", requires=("tool>=0.26a0",)))
    upgrade = ("compile", "--index-url", index.url, "--group", "dev", "-P", "tool-plugin")
    assert run_envlock(*upgrade, check=True).returncode == 0
    again = run_envlock("sync", "--group", "dev", "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["counts"] == {"installed": 0, "replaced": 1, "removed": 0, "kept": 1}


def test_a_plugin_the_built_project_does_not_satisfy_is_named_with_both_versions(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    env = _compile_project_with_a_plugin(index, run_envlock, isolated, "tool>=0.26a0")
    # The project's version moves back after the compile: its build no longer satisfies the plugin.
    pyproject = isolated / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.26a0"', 'version = "0.25"'))
    refused = run_envlock("sync", "--group", "dev", env=env)
    assert refused.returncode == 1, refused.stderr
    assert "tool>=0.26a0" in refused.stderr and "builds tool 0.25" in refused.stderr, refused.stderr
    assert "report the index" not in refused.stderr and "(the lock has" not in refused.stderr
    assert not (isolated / ".venv").exists()  # refused before the venv was made
