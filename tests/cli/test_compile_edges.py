"""The resolver at its edges (issue 23, items 1, 3 and 4), through the CLI against the kit index: a
project no index has, a prerelease where every final fails, and universal or multi-target locks whose
inputs or Pythons do not fit their targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.lock.lockfile import read_lock
from envlock.resolve.compiler import versions_of
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock


def _versions(path: Path = Path("pylock.toml")) -> dict[str, tuple[str, ...]]:
    return dict(versions_of(read_lock(path)))


def _locked(index: KitIndex, run_envlock: RunEnvlock, requirements: str) -> dict[str, tuple[str, ...]]:
    """The versions a compile of ``requirements`` locks (it must succeed)."""
    Path("requirements.in").write_text(requirements)
    run_envlock("compile", "--index-url", index.url, check=True)
    return _versions()


# -- item 1: a project no index has -----------------------------------------------------------------


def test_a_dependency_no_index_has_backtracks_to_an_older_release(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0"), DistSpec("a", "2.0", requires=("b",)))
    assert _locked(kit_index, run_envlock, "a\n") == {"a": ("1.0",)}


def test_when_every_release_needs_a_missing_project_the_error_names_the_requirers(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0", requires=("b",)), DistSpec("a", "2.0", requires=("b>1",)))
    Path("requirements.in").write_text("a\n")
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[:3] == [
        "error: cannot resolve: these requirements name a project no index has:",
        f"  requirements.in:1 → a 2.0 requires b>1, which is not on any index ({kit_index.url})",
        f"  requirements.in:1 → a 1.0 requires b, which is not on any index ({kit_index.url})",
    ]
    assert "--extra-index-url" in result.stderr and "Traceback" not in result.stderr
    assert not Path("pylock.toml").exists()


def test_a_root_requirement_no_index_has_is_named_with_its_line(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0"))
    Path("requirements.in").write_text("a\nnope>=1\n")
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 1
    assert (
        f"error: project 'nope' is not on any index ({kit_index.url}): required by requirements.in:2"
        in result.stderr
    )
    assert "Traceback" not in result.stderr and not Path("pylock.toml").exists()


def test_an_index_failure_other_than_not_found_stays_fatal(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0"), DistSpec("a", "2.0", requires=("b",)), DistSpec("b", "1.0"))
    kit_index.fault("/simple/b/", "503")
    Path("requirements.in").write_text("a\n")
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 1
    assert "503" in result.stderr and "not on any index" not in result.stderr
    assert not Path("pylock.toml").exists()


# -- item 3: prereleases after backtracking ---------------------------------------------------------


def _publish_prerelease_case(index: KitIndex) -> None:
    index.publish(
        DistSpec("x", "1.0"),
        DistSpec("x", "1.6", requires=("q>9",)),  # the only final above 1.5 needs a q nobody has
        DistSpec("x", "1.7b1"),
        DistSpec("q", "1.0"),
        DistSpec("a", "1.0", requires=("x>1.5",)),
        DistSpec("a", "2.0", requires=("c>=2",)),  # no such c: a 1.0 is reached by backtracking
        DistSpec("c", "1.0"),
    )


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        ("x>1.5\n", {"x": ("1.7b1",)}),  # a stable conflict resolved by a prerelease
        ("a\n", {"a": ("1.0",), "x": ("1.7b1",)}),  # a dependency's x>1.5, reached after backtracking
    ],
)
def test_a_prerelease_is_locked_when_every_final_that_satisfies_fails(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path, requirements: str, expected: object
) -> None:
    _publish_prerelease_case(kit_index)
    assert _locked(kit_index, run_envlock, requirements) == expected


# -- item 4: universal and multi-target locks at the edges ------------------------------------------


def test_requirements_whose_markers_match_no_target_are_refused_saying_why(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0"), DistSpec("b", "1.0"))
    Path("requirements.in").write_text('a; sys_platform == "emscripten"\nb; sys_platform == "emscripten"\n')
    for extra in (
        (),
        ("--universal",),
        ("--target", "cp312-linux-x86_64", "--target", "cp312-windows-amd64"),
    ):
        result = run_envlock("compile", "--index-url", kit_index.url, *extra)
        assert result.returncode == 1, (extra, result.stderr)
        assert "nothing to lock: no requirement's marker matches the lock's targets" in result.stderr
        assert 'requirements.in:2: b; sys_platform == "emscripten"' in result.stderr
        assert "Traceback" not in result.stderr and not Path("pylock.toml").exists()


def test_a_requirement_matching_none_of_several_targets_is_a_warning(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0"), DistSpec("b", "1.0"))
    Path("requirements.in").write_text('a; sys_platform == "emscripten"\nb\n')
    targets = ("--target", "cp312-linux-x86_64", "--target", "cp312-windows-amd64")
    result = run_envlock("compile", "--index-url", kit_index.url, *targets, check=True)
    assert (
        'requirements.in:1: a; sys_platform == "emscripten" matches none of the lock\'s targets'
        in result.stderr
    )
    assert _versions() == {"b": ("1.0",)}
    single = run_envlock("compile", "--index-url", kit_index.url, "-o", "one.toml", check=True)
    assert "matches none" not in single.stderr  # one target: a platform-only line is routine


def test_universal_from_a_requirements_file_takes_its_floor_from_python_version(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0", requires_python=">=3.13"))
    Path("requirements.in").write_text("a\n")
    default = run_envlock("compile", "--index-url", kit_index.url, "--universal")
    assert default.returncode == 1
    assert "error: for cpython 3.10 on linux/aarch64: no version of a satisfies a" in default.stderr
    assert "--python-version X.Y (or requires-python) sets the lowest Python" in default.stderr
    assert not Path("pylock.toml").exists()
    run_envlock(
        "compile", "--index-url", kit_index.url, "--universal", "--python-version", "3.13", check=True
    )
    lock = read_lock(Path("pylock.toml"))
    assert len(lock.environments or ()) == 2 * 5  # CPython 3.13 and 3.14 x five platforms
    assert str(lock.requires_python) == ">=3.13"
    assert _versions() == {"a": ("1.0",)}
    again = ("compile", "--index-url", kit_index.url, "--universal", "--python-version", "3.13", "--check")
    assert run_envlock(*again).returncode == 0
    assert run_envlock("compile", "--index-url", kit_index.url, "--universal", "--check").returncode == 1


def test_universal_refuses_a_floor_it_cannot_lock_and_an_interpreter(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("a", "1.0"))
    Path("requirements.in").write_text("a\n")
    for extra, needle in (
        (("--python-version", "3.15"), "CPython 3.15 is not a supported target"),
        (("--python-version", "three"), "invalid Python version 'three'"),
        (("--python", "python3"), "--python names one interpreter: give one or the other"),
    ):
        result = run_envlock("compile", "--index-url", kit_index.url, "--universal", *extra)
        assert result.returncode == 2, (extra, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr
    assert not Path("pylock.toml").exists()
