"""One lock for several targets (issue 14): ``--target`` and ``[tool.envlock] targets`` against the kit
index, uv as the oracle of each target's selection, freshness that covers the targets, and the
messages for a machine the lock does not cover."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker

from envlock.env.targets import parse_target, target_environment
from envlock.lock.lockfile import read_lock
from envlock.resolve.compiler import versions_of
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

HERE = f"cp3{sys.version_info[1]}-linux-x86_64"
"""This machine as a target (the tests run on Linux x86_64)."""
TARGETS = tuple(
    dict.fromkeys(
        (
            HERE,
            *(
                f"cp3{minor}-{system}"
                for system in ("linux-x86_64", "windows-amd64", "macos-arm64")
                for minor in (11, 12)
            ),
        )
    )
)
"""Linux x86_64, Windows amd64, macOS arm64 × CPython 3.11 and 3.12 (the issue's team), and this machine."""
UV_PLATFORMS = {
    "linux": "x86_64-manylinux_2_28",
    "windows": "x86_64-pc-windows-msvc",
    "macos": "aarch64-apple-darwin",
}
PLATFORM_TAGS = {"linux": "manylinux_2_17_x86_64", "windows": "win_amd64", "macos": "macosx_11_0_arm64"}


def _native_tags(*families: str) -> tuple[str, ...]:
    """A cpXY wheel for every target of ``families``."""
    found = []
    for target in TARGETS:
        spec = parse_target(target)
        if spec.family in families:
            found.append(f"cp3{spec.minor}-cp3{spec.minor}-{PLATFORM_TAGS[spec.family]}")
    return tuple(dict.fromkeys(found))


def _publish(index: KitIndex) -> None:
    index.publish(
        DistSpec("app", "1.0", requires=("native", "winonly; sys_platform == 'win32'", "py")),
        DistSpec("winonly", "1.0"),
        DistSpec("py", "1.0"),
        DistSpec("py", "2.0", requires_python=">=3.12"),
        # native 2.0 dropped Windows: the Windows targets keep 1.0, the others take 2.0
        DistSpec("native", "1.0", tags=_native_tags("linux", "windows", "macos")),
        DistSpec("native", "2.0", tags=_native_tags("linux", "macos")),
    )
    Path("requirements.in").write_text("app\n")


def expected(target: str) -> dict[str, str]:
    """What each target must get (and what uv resolves for it)."""
    spec = parse_target(target)
    found = {"app": "1.0", "py": "2.0" if spec.minor >= 12 else "1.0"}
    found["native"] = "1.0" if spec.family == "windows" else "2.0"
    if spec.family == "windows":
        found["winonly"] = "1.0"
    return found


def selection(lock_path: Path, target: str) -> dict[str, str]:
    """What the lock gives ``target``: its packages whose marker holds there."""
    markers = dict(target_environment(parse_target(target)).markers)
    return {
        p.name: str(p.version)
        for p in read_lock(lock_path).packages
        if p.marker is None or Marker(str(p.marker)).evaluate(markers)
    }


def test_one_lock_serves_every_target_with_one_version_where_they_allow(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _publish(kit_index)
    args = [a for t in TARGETS for a in ("--target", t)]
    result = run_envlock("compile", "--index-url", kit_index.url, *args, check=True)
    assert f"{len(TARGETS)} targets" in result.stdout + result.stderr
    lock = read_lock(Path("pylock.toml"))
    assert len(lock.environments or ()) == len(TARGETS)
    assert str(lock.requires_python) == f">=3.{min(sys.version_info[1], 11)}"
    for target in TARGETS:
        assert selection(Path("pylock.toml"), target) == expected(target), target
    assert [p.name for p in lock.packages].count("app") == 1  # one entry where every target agrees
    assert next(p for p in lock.packages if p.name == "app").marker is None
    assert str(next(p for p in lock.packages if p.name == "winonly").marker) == 'sys_platform == "win32"'
    # the same command again keeps the lock; a compile from scratch (no lock, no cache) writes the same bytes
    again = run_envlock("compile", "--index-url", kit_index.url, *args, check=True)
    assert "up to date" in again.stdout + again.stderr
    # resolved again: native keeps 1.0 for Windows and 2.0 elsewhere, so no change is reported
    upgraded = run_envlock("-v", "compile", "--index-url", kit_index.url, *args, "-P", "native", check=True)
    assert "~ native" not in upgraded.stdout + upgraded.stderr
    assert "up to date" in upgraded.stdout + upgraded.stderr
    # the report compares every version a lock pins per name, whatever the order of its entries
    reordered = dataclasses.replace(lock, packages=list(reversed(lock.packages)))
    assert versions_of(reordered) == versions_of(lock) and versions_of(lock)["native"] == ("1.0", "2.0")
    first = Path("pylock.toml").read_bytes()
    Path("pylock.toml").unlink()
    run_envlock(
        "compile",
        "--index-url",
        kit_index.url,
        *[a for t in reversed(TARGETS) for a in ("--target", t)],
        "--cache-dir",
        "other-cache",
        check=True,
    )
    assert Path("pylock.toml").read_bytes() == first


@pytest.mark.oracle
@pytest.mark.parametrize("target", TARGETS)
def test_each_targets_selection_is_uvs_resolution(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path, target: str
) -> None:
    uv = Path(sys.executable).with_name("uv")
    if not uv.exists():
        pytest.skip("uv is not installed in the dev environment")
    _publish(kit_index)
    args = [a for t in TARGETS for a in ("--target", t)]
    run_envlock("compile", "--index-url", kit_index.url, *args, check=True)
    spec = parse_target(target)
    command = [str(uv), "pip", "compile", "requirements.in", "--index-url", kit_index.url, "--no-header"]
    command += ["--python-platform", UV_PLATFORMS[spec.family], "--python-version", f"3.{spec.minor}", "-q"]
    found = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert found.returncode == 0, found.stderr
    pins = dict(
        line.split("==") for line in found.stdout.splitlines() if "==" in line and not line.startswith("#")
    )
    assert (
        selection(Path("pylock.toml"), target) == {k: v.strip() for k, v in pins.items()} == expected(target)
    )


def test_targets_from_pyproject_and_a_new_target_makes_the_lock_stale(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _publish(kit_index)

    def declare(*targets: str) -> None:
        listed = ", ".join(f'"{t}"' for t in targets)
        Path("pyproject.toml").write_text(
            f'[tool.envlock]\nindex-url = "{kit_index.url}"\ntargets = [{listed}]\n'
        )

    declare(HERE, "cp312-macos-arm64")
    run_envlock("compile", check=True)
    assert run_envlock("compile", "--check").returncode == 0
    declare(HERE, "cp312-macos-arm64", "cp312-windows-amd64")
    stale = run_envlock("compile", "--check")
    assert stale.returncode == 1
    assert "has no entry for cpython 3.12 on win32/AMD64" in stale.stderr
    run_envlock("compile", check=True)
    assert "winonly" in selection(Path("pylock.toml"), "cp312-windows-amd64")


def test_sync_installs_this_machines_selection_and_refuses_an_uncovered_machine(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _publish(kit_index)
    args = [a for t in TARGETS for a in ("--target", t)]
    run_envlock("compile", "--index-url", kit_index.url, *args, check=True)
    run_envlock("sync", "--venv", "venv", "--python", sys.executable, check=True)
    listed = run_envlock("sync", "--venv", "venv", "--python", sys.executable, "--dry-run")
    assert listed.returncode == 0
    check = run_envlock("check", "--venv", "venv")
    assert check.returncode == 0, check.stderr
    site = next(Path("venv").glob("lib/python3.*/site-packages"))
    installed = sorted(p.name.split("-")[0] for p in site.glob("*.dist-info"))
    assert installed == ["app", "native", "py"]
    assert (site / "native-2.0.dist-info").is_dir()

    run_envlock(
        "compile",
        "--index-url",
        kit_index.url,
        "--target",
        "cp312-windows-amd64",
        "-o",
        "win.toml",
        check=True,
    )
    refused = run_envlock("sync", "win.toml", "--venv", "other", "--python", sys.executable)
    assert refused.returncode != 0
    assert "is not one of the lock's targets: cpython 3.12 on win32/AMD64" in refused.stderr
    assert f"envlock compile --target {HERE}" in refused.stderr
    assert not Path("other").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--python-version", "3.12"), "give one or the other"),
        (("--target", "cp312-beos-x86_64"), "is not a target"),
    ],
)
def test_bad_target_combinations_are_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path, extra: tuple[str, ...], needle: str
) -> None:
    _publish(kit_index)
    result = run_envlock("compile", "--index-url", kit_index.url, "--target", HERE, *extra)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert not Path("pylock.toml").exists()


def test_universal_covers_the_common_platforms_for_the_projects_pythons(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(
        DistSpec("a", "1.0", requires=("winonly; sys_platform == 'win32'",)), DistSpec("winonly", "1.0")
    )
    Path("pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\nrequires-python = ">=3.12"\ndependencies = ["a"]\n'
        "[tool.envlock]\ninstall-project = false\n"
    )
    run_envlock("compile", "pyproject.toml", "--index-url", kit_index.url, "--universal", check=True)
    lock = read_lock(Path("pylock.toml"))
    assert len(lock.environments or ()) == 3 * 5  # CPython 3.12-3.14 x five platforms
    assert str(lock.requires_python) == ">=3.12"
    assert selection(Path("pylock.toml"), "cp313-windows-amd64") == {
        "a": "1.0",
        "winonly": "1.0",
    }
    assert selection(Path("pylock.toml"), "cp314-linux-aarch64") == {"a": "1.0"}
    assert (
        run_envlock(
            "compile", "pyproject.toml", "--index-url", kit_index.url, "--universal", "--check"
        ).returncode
        == 0
    )
    both = run_envlock(
        "compile", "pyproject.toml", "--index-url", kit_index.url, "--universal", "--target", HERE
    )
    assert both.returncode == 2 and "give one or the other" in both.stderr
    Path("pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\nrequires-python = "<3.9"\ndependencies = ["a"]\n'
        "[tool.envlock]\ninstall-project = false\n"
    )
    none = run_envlock(
        "compile", "pyproject.toml", "--index-url", kit_index.url, "--universal", "-o", "x.toml"
    )
    assert none.returncode == 2 and "admits none of CPython 3.10 to 3.14" in none.stderr
    assert not Path("x.toml").exists()
