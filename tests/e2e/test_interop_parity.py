"""Parity with uv, pip and pip-tools (oracles, offline against the kit index, isolated from machine config):

- ``uv pip sync pylock.toml`` installs envlock's lock to the set ``envlock sync`` installs;
- ``envlock sync`` installs a lock written by ``uv pip compile -o pylock.toml`` to the set uv installs;
- ``pip install --require-hashes --no-deps -r exported.txt`` gives the set (and files) ``envlock sync`` gives;
- ``envlock import`` of a pip-compile output, then ``envlock sync``, gives the set ``pip-sync`` gives.

Installed sets are ``{normalized name: version}`` read from the venvs' dist-info folders. The one documented
difference (docs/migrating-from-pip-tools.md): envlock's exact sync removes pip/setuptools/wheel that the
lock does not name; pip and pip-sync keep the installer's own packages, so those are left out of the
comparison with pip-made venvs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock, VenvFactory
from tests.kit.venvs import site_packages, venv_python

pytestmark = pytest.mark.oracle

INSTALLER_OWN = frozenset({"pip", "setuptools", "wheel"})
"""What a venv made with pip has before anything is installed (kept by pip-sync, removed by envlock)."""

SPECS = (
    DistSpec(
        "App",
        "1.0",
        requires=(
            "leaf>=1",
            "post-pkg",
            "src-only<1",
            "opt; extra == 'fancy'",
            "winonly; sys_platform == 'win32'",
            "old-py; python_version < '3.8'",
        ),
        extras=("fancy",),
        console_scripts={"app": "app:main"},
        data={"data": {"share/app/readme.txt": b"hello\n"}},
    ),
    DistSpec("leaf", "1.0"),
    DistSpec("leaf", "2.0", sdist=True),
    DistSpec("leaf", "2.1b1"),
    DistSpec("post-pkg", "1.0"),
    DistSpec("post-pkg", "1.0.post1", requires=("local-pkg",)),
    DistSpec("local-pkg", "1.0+abc"),
    DistSpec("src-only", "0.5", wheel=False, sdist=True),
    DistSpec("src-only", "1.0"),
    DistSpec("opt", "1.5", requires_python=">=3.8"),
    DistSpec("opt", "9.0", requires_python=">=3.99"),
    DistSpec("winonly", "1.0"),
    DistSpec("old-py", "1.0"),
    DistSpec("devtool", "0.3"),
)
PYPROJECT = """[project]
name = "me"
version = "0"
dependencies = ["app"]

[project.optional-dependencies]
fancy = ["app[fancy]"]

[dependency-groups]
dev = ["devtool"]
"""
ALL_OF_IT = {
    "app": "1.0",
    "leaf": "2.0",
    "post-pkg": "1.0.post1",
    "local-pkg": "1.0+abc",
    "src-only": "0.5",
    "opt": "1.5",
    "devtool": "0.3",
}
"""What every tool must install for the project with extra ``fancy`` and group ``dev`` on Linux/3.11."""


@pytest.fixture
def scenario(kit_index: KitIndex, isolated: Path) -> KitIndex:
    kit_index.publish(*SPECS)
    kit_index.publish(DistSpec("leaf", "2.2"), yanked="broken")
    (isolated / "pyproject.toml").write_text(PYPROJECT)
    (isolated / "requirements.in").write_text("app[fancy]\ndevtool\n")
    return kit_index


def tool(name: str) -> Path:
    found = Path(sys.executable).parent / name
    if not found.exists():
        found = Path(shutil.which(name) or name)
    if not found.exists():
        pytest.skip(f"{name} is not installed in the dev venv")
    return found


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1", "PIP_NO_INPUT": "1"}
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def installed(venv: Path, *, ignore: frozenset[str] = frozenset()) -> dict[str, str]:
    """{normalized name: version} from the venv's dist-info folders."""
    found: dict[str, str] = {}
    for info in site_packages(venv).glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        if canonicalize_name(name) not in ignore:
            found[str(canonicalize_name(name))] = version
    return dict(sorted(found.items()))


def installed_files(venv: Path, names: Sequence[str]) -> dict[str, set[str]]:
    """Per distribution, the files its RECORD lists (no bytecode, no installer-specific metadata such as
    envlock's ``envlock.json`` or uv's ``uv_build.json`` for a wheel it built from an sdist)."""
    skip = {
        "INSTALLER",
        "RECORD",
        "REQUESTED",
        "direct_url.json",
        "envlock.json",
        "uv_build.json",
        "uv_cache.json",
    }
    result: dict[str, set[str]] = {}
    root = site_packages(venv)
    for info in root.glob("*.dist-info"):
        name = str(canonicalize_name(info.name.split("-", 1)[0]))
        if name not in names:
            continue
        files = set()
        for line in (info / "RECORD").read_text().splitlines():
            path = line.rsplit(",", 2)[0]
            if path.endswith(".pyc") or path.rsplit("/", 1)[-1] in skip:
                continue
            files.add(os.path.normpath(path))
        result[name] = files
    return result


def envlock_sync(run_envlock: RunEnvlock, lock: str, venv: Path, *selection: str) -> dict[str, str]:
    run_envlock("sync", lock, "--venv", venv, *selection, check=True)
    return installed(venv)


def test_uv_installs_envlocks_lock_to_the_sync_set(
    scenario: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, isolated: Path
) -> None:
    uv = tool("uv")
    run_envlock(
        "compile",
        "pyproject.toml",
        "--extra",
        "fancy",
        "--group",
        "dev",
        "--index-url",
        scenario.url,
        check=True,
    )
    for selection in (("--extra", "fancy", "--group", "dev"), ()):
        ours = envlock_sync(run_envlock, "pylock.toml", isolated / f"ours{len(selection)}", *selection)
        theirs_venv = venv_factory()
        run(uv, "pip", "sync", "pylock.toml", "--python", venv_python(theirs_venv), *selection, cwd=isolated)
        assert installed(theirs_venv) == ours
        assert installed_files(theirs_venv, list(ours)) == installed_files(
            isolated / f"ours{len(selection)}", list(ours)
        )
    assert ours == {k: v for k, v in ALL_OF_IT.items() if k not in ("opt",)}


def test_envlock_installs_uvs_lock_to_the_set_uv_installs(
    scenario: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, isolated: Path
) -> None:
    uv = tool("uv")
    run(
        uv, "pip", "compile", "pyproject.toml", "--extra", "fancy", "--group", "dev", "--universal",
        "--index-url", scenario.url, "-o", "pylock.toml",
        # uv otherwise takes the lower bound from the first Python it finds, not the one running the test
        "--python-version", f"{sys.version_info[0]}.{sys.version_info[1]}", cwd=isolated,
    )  # fmt: skip
    ours = envlock_sync(run_envlock, "pylock.toml", isolated / "ours")
    theirs_venv = venv_factory()
    run(uv, "pip", "sync", "pylock.toml", "--python", venv_python(theirs_venv), cwd=isolated)
    assert installed(theirs_venv) == ours == ALL_OF_IT

    # uv's universal lock keeps environment markers (winonly, old-py) and records no index: the export
    # keeps the markers for pip to evaluate, and pip is given the index on its command line.
    exported = run_envlock("export", "pylock.toml", check=True).stdout
    winonly = next(line for line in exported.splitlines() if line.startswith("winonly==1.0 ;"))
    assert 'sys_platform == "win32"' in winonly and "index-url" not in exported
    (isolated / "exported.txt").write_text(exported)
    pip_venv = venv_factory(with_pip=True)
    run(
        venv_python(pip_venv), "-m", "pip", "install", "--require-hashes", "--no-deps", "-r", "exported.txt",
        "--index-url", scenario.url, cwd=isolated,
    )  # fmt: skip
    assert installed(pip_venv, ignore=INSTALLER_OWN) == ours


def test_pip_installs_the_export_to_the_sync_set_and_layout(
    scenario: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, isolated: Path
) -> None:
    run_envlock(
        "compile",
        "pyproject.toml",
        "--extra",
        "fancy",
        "--group",
        "dev",
        "--index-url",
        scenario.url,
        check=True,
    )
    ours = envlock_sync(run_envlock, "pylock.toml", isolated / "ours", "--extra", "fancy")
    run_envlock("export", "--extra", "fancy", "-o", "exported.txt", check=True)
    pip_venv = venv_factory(with_pip=True)
    run(
        venv_python(pip_venv), "-m", "pip", "install", "--require-hashes", "--no-deps", "-r", "exported.txt",
        cwd=isolated,
    )  # fmt: skip
    assert installed(pip_venv, ignore=INSTALLER_OWN) == ours == ALL_OF_IT
    assert installed_files(pip_venv, list(ours)) == installed_files(isolated / "ours", list(ours))


def test_import_of_pip_compile_output_syncs_to_the_pip_sync_set(
    scenario: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, isolated: Path
) -> None:
    run(
        sys.executable, "-m", "piptools", "compile", "--no-config", "--quiet", "--generate-hashes",
        "--strip-extras", "--index-url", scenario.url, "--cache-dir", isolated / "pip-tools-cache",
        "-o", "requirements.txt", "requirements.in", cwd=isolated,
    )  # fmt: skip
    run_envlock("import", "requirements.txt", "-o", "pylock.toml", check=True)
    ours = envlock_sync(run_envlock, "pylock.toml", isolated / "ours")
    pip_venv = venv_factory(with_pip=True)
    run(
        sys.executable, "-m", "piptools", "sync", "--python-executable", venv_python(pip_venv),
        "requirements.txt", cwd=isolated,
    )  # fmt: skip
    assert installed(pip_venv, ignore=INSTALLER_OWN) == ours == ALL_OF_IT


def test_a_multi_target_lock_installs_this_machines_selection_with_every_tool(
    scenario: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, isolated: Path
) -> None:
    """Issue 14: one lock for Linux (this machine), Windows and macOS; uv's pylock support and pip with
    the export (which keeps each package's marker) install the Linux selection, as envlock sync does."""
    here = f"cp3{sys.version_info[1]}-linux-x86_64"
    targets = [a for t in (here, "cp312-windows-amd64", "cp313-macos-arm64") for a in ("--target", t)]
    run_envlock("compile", "requirements.in", "--index-url", scenario.url, *targets, check=True)
    ours = envlock_sync(run_envlock, "pylock.toml", isolated / "ours")
    assert "winonly" not in ours
    theirs_venv = venv_factory()
    run(tool("uv"), "pip", "sync", "pylock.toml", "--python", venv_python(theirs_venv), cwd=isolated)
    assert installed(theirs_venv) == ours
    exported = run_envlock("export", "pylock.toml", check=True).stdout
    assert any(line.startswith("winonly==1.0 ; ") for line in exported.splitlines())
    (isolated / "exported.txt").write_text(exported)
    pip_venv = venv_factory(with_pip=True)
    run(
        venv_python(pip_venv), "-m", "pip", "install", "--require-hashes", "--no-deps", "-r", "exported.txt",
        cwd=isolated,
    )  # fmt: skip
    assert installed(pip_venv, ignore=INSTALLER_OWN) == ours
