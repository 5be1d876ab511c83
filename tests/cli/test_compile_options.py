"""``envlock compile`` options of issue 12 end to end against the kit index: ``--exclude-newer`` (and
``[tool.envlock] exclude-newer``), ``--python`` with a relative path or with ``--python-version``, and
small unsatisfiable graphs, each failing within a few resolver rounds (issue 23) with both sides of the
clash named."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from envlock.lock.lockfile import read_lock
from envlock.tomlshim import tomllib
from tests.kit.dists import DistSpec, build_wheel
from tests.kit.index import IndexFeatures, KitIndex
from tests.kit.plugin import KitIndexFactory, RunEnvlock, VenvFactory

JAN, JUN = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 6, 1, tzinfo=timezone.utc)


def pins(path: Path) -> dict[str, str]:
    return {p.name: str(p.version) for p in read_lock(path).packages}


def _two_releases(index: KitIndex) -> None:
    index.publish(DistSpec("alpha", "1.0"), upload_time=JAN)
    index.publish(DistSpec("alpha", "2.0"), upload_time=JUN)
    Path("requirements.in").write_text("alpha\n")


def test_exclude_newer_resolves_as_the_index_was_then_and_is_recorded(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _two_releases(kit_index)
    run_envlock("compile", "--index-url", kit_index.url, "--exclude-newer", "2024-03-01", check=True)
    assert pins(Path("pylock.toml")) == {"alpha": "1.0"}
    recorded = tomllib.loads(Path("pylock.toml").read_text())["tool"]["envlock"]["settings"]
    assert recorded["exclude-newer"] == "2024-03-01"
    assert (
        run_envlock(
            "compile", "--check", "--index-url", kit_index.url, "--exclude-newer", "2024-03-01"
        ).returncode
        == 0
    )
    run_envlock("compile", "--index-url", kit_index.url, "-U", check=True)  # the lock's cutoff is kept
    assert pins(Path("pylock.toml")) == {"alpha": "1.0"}
    run_envlock("compile", "--index-url", kit_index.url, "-U", "--reset-settings", check=True)
    assert pins(Path("pylock.toml")) == {"alpha": "2.0"}


def test_exclude_newer_from_pyproject(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    _two_releases(kit_index)
    Path("pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\ndependencies = ["alpha"]\n'
        f'[tool.envlock]\nindex-url = "{kit_index.url}"\nexclude-newer = "2024-05-31T23:59:59Z"\n'
    )
    run_envlock("compile", "pyproject.toml", check=True)
    assert pins(Path("pylock.toml")) == {"alpha": "1.0"}


def test_exclude_newer_refused_on_an_index_without_upload_times(
    kit_index_factory: KitIndexFactory, run_envlock: RunEnvlock, isolated: Path
) -> None:
    index = kit_index_factory(IndexFeatures(json=False))  # PEP 503 HTML: no upload-time
    _two_releases(index)
    result = run_envlock("compile", "--index-url", index.url, "--exclude-newer", "2024-03-01")
    assert result.returncode == 1
    assert "gives no upload time for alpha-2.0-py3-none-any.whl" in result.stderr
    assert "PEP 700" in result.stderr and "Traceback" not in result.stderr
    assert not Path("pylock.toml").exists()


def test_exclude_newer_keeps_local_find_links_files(
    kit_index: KitIndex, kit_index_factory: KitIndexFactory, run_envlock: RunEnvlock, isolated: Path
) -> None:
    """A local find-links folder's files have no upload time and are the user's own: exempt from the
    cutoff, while the index's files still obey it and a remote find-links page is still refused."""
    _two_releases(kit_index)
    build_wheel(DistSpec("mine", "3.0"), Path("wheels"))
    Path("requirements.in").write_text("alpha\nmine\n")
    args = ("compile", "--index-url", kit_index.url, "--exclude-newer", "2024-03-01")
    run_envlock(*args, "--find-links", "wheels", check=True)
    assert pins(Path("pylock.toml")) == {"alpha": "1.0", "mine": "3.0"}
    remote = kit_index_factory(IndexFeatures(json=False))  # a find-links page: PEP 503 HTML, no upload time
    remote.publish(DistSpec("mine", "3.0"))
    result = run_envlock(*args, "--find-links", f"{remote.url}mine/", "-U", "-o", "remote.toml")
    assert result.returncode == 1, result.stderr
    assert "gives no upload time for mine-3.0-py3-none-any.whl" in result.stderr, result.stderr
    assert not Path("remote.toml").exists()


def test_exclude_newer_that_is_no_timestamp_is_an_input_error(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _two_releases(kit_index)
    result = run_envlock("compile", "--index-url", kit_index.url, "--exclude-newer", "last tuesday")
    assert result.returncode == 2
    assert "--exclude-newer: 'last tuesday' is not a timestamp" in result.stderr


def test_relative_python_path_is_taken_from_the_working_folder(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path, venv_factory: VenvFactory
) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"))
    Path("requirements.in").write_text("alpha\n")
    venv = venv_factory()
    python = next(p for p in (venv / "bin" / "python", venv / "Scripts" / "python.exe") if p.exists())
    relative = "./" + os.path.relpath(python, Path.cwd()).replace(os.sep, "/")
    run_envlock("compile", "--index-url", kit_index.url, "--python", relative, check=True)
    assert pins(Path("pylock.toml")) == {"alpha": "1.0"}
    missing = run_envlock("compile", "--index-url", kit_index.url, "--python", "no-such-python3.99")
    assert missing.returncode != 0 and "no such interpreter on PATH" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_python_version_with_python_resolves_for_that_version(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path, venv_factory: VenvFactory
) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("alpha", "2.0", requires_python=">=3.13"))
    Path("requirements.in").write_text("alpha\n")
    venv = venv_factory()
    python = next(p for p in (venv / "bin" / "python", venv / "Scripts" / "python.exe") if p.exists())
    args = ("compile", "--index-url", kit_index.url, "--python", str(python))
    run_envlock(*args, "--python-version", "3.12", check=True)
    lock = read_lock(Path("pylock.toml"))
    assert str(lock.requires_python) == "==3.12.*"
    assert pins(Path("pylock.toml")) == {"alpha": "1.0"}
    run_envlock(*args, "--python-version", "3.13", "-U", check=True)
    assert str(read_lock(Path("pylock.toml")).requires_python) == "==3.13.*"
    assert pins(Path("pylock.toml")) == {"alpha": "2.0"}


MAX_ROUNDS = 50
"""Resolver rounds an unsatisfiable shape may take (counted from ``-v``'s ``resolver work: N rounds``)."""


def _with_python(name: str, version: str, *requires: str, extras: tuple[str, ...] = ()) -> DistSpec:
    """A release declaring a Requires-Python, as real ones do: before issue 23 each added a requirement on
    the target's Python, offered again every round once backtracking had rejected it, so the shapes below
    ran to resolvelib's 20,000-round limit ("gave up after too many rounds")."""
    return DistSpec(name, version, requires=requires, extras=extras, requires_python=">=3.8")


SHAPES = {
    "a transitive pin against the root's": (
        [_with_python("c", f"{n}.0", "a") for n in range(1, 9)]
        + [_with_python("a", f"{n}.0", "b==2") for n in range(1, 9)]
        + [_with_python("b", "1"), _with_python("b", "2")],
        "c\nb==1\n",
        [
            "a 1.0 … 8.0 (8 versions) cannot be pinned: their requirements clash with the input's:",
            "requirements.in:2 requires b==1",
            "a 1.0 … 8.0 (8 versions) require b==2",
        ],
    ),
    "a local-version clash": (
        [_with_python("torch", "2.0.0+cpu"), _with_python("torch", "2.0.0+cu121")]
        + [_with_python("vision", f"0.{n}", "torch==2.0.0+cu121") for n in range(1, 9)],
        "torch==2.0.0+cpu\nvision\n",
        [
            "requirements.in:1 requires torch==2.0.0+cpu",
            "requirements.in:2 → vision 0.1 … 0.8 (8 versions) require torch==2.0.0+cu121",
        ],
    ),
    "an extra incompatible with the root": (
        [_with_python("a", "1"), _with_python("a", "2")]
        + [_with_python("b", f"{n}.0", "a>=2; extra == 'x'", extras=("x",)) for n in range(1, 9)],
        "a==1\nb[x]\n",
        ["requirements.in:1 requires a==1", "requirements.in:2 → b[x] 1.0 … 8.0 (8 versions) require a>=2"],
    ),
    "root pin vs transitive pin": (
        [DistSpec("a", f"{n}.0", requires=("b==2",)) for n in range(1, 13)]
        + [DistSpec("b", "1"), DistSpec("b", "2")],
        "a\nb==1\n",
        ["requirements.in:2 requires b==1", "requirements.in:1 → a 1.0 … 12.0 (12 versions) require b==2"],
    ),
    "local versions": (
        [
            DistSpec("a", "1.0", requires=("b==1.0+cpu",)),
            DistSpec("b", "1.0+cpu"),
            DistSpec("b", "1.0+cu121"),
        ],
        "a\nb==1.0+cu121\n",
        ["requirements.in:2 requires b==1.0+cu121", "requirements.in:1 → a 1.0 requires b==1.0+cpu"],
    ),
    "extras incompatible with the root": (
        [
            DistSpec("a", "1.0", requires=("c[x]",)),
            DistSpec("c", "1.0", requires=("d>=2; extra == 'x'",), extras=("x",)),
            DistSpec("d", "1.0"),
            DistSpec("d", "2.0"),
        ],
        "a\nd<2\n",
        ["requirements.in:2 requires d<2", "requirements.in:1 → a 1.0 → c[x] 1.0 requires d>=2"],
    ),
    "a dependency excluding a range": (
        [DistSpec("a", f"{n}.0", requires=("b<2",)) for n in range(1, 6)]
        + [DistSpec("b", "1.0"), DistSpec("b", "3.0")],
        "a\nb>=2\n",
        ["requirements.in:2 requires b>=2", "requirements.in:1 → a 1.0 … 5.0 (5 versions) require b<2"],
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_small_unsatisfiable_graphs_name_the_clash(
    shape: str, kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    specs, requirements, expected = SHAPES[shape]
    kit_index.publish(*specs)
    Path("requirements.in").write_text(requirements)
    result = run_envlock("-v", "compile", "--index-url", kit_index.url)
    assert result.returncode == 1, result.stderr
    for line in expected:
        assert line in result.stderr, result.stderr
    assert "too many rounds" not in result.stderr and "Traceback" not in result.stderr
    assert _rounds(result.stderr) < MAX_ROUNDS, result.stderr


def _rounds(stderr: str) -> int:
    work = re.search(r"^resolver work: (\d+) rounds?, \d+ backtracks?$", stderr, re.MULTILINE)
    assert work is not None, stderr
    return int(work[1])


def test_a_package_needing_a_newer_python_is_named(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    """A requirement on the target's Python is added only when a Requires-Python excludes the target;
    the message still names it. Here only the package's metadata says it (the index's page does not),
    so the resolver sees the version and rejects it once it has read it."""
    kit_index.features.requires_python = False
    kit_index.publish(_with_python("a", "1.0", "b"), DistSpec("b", "1.0", requires_python=">=4"))
    Path("requirements.in").write_text("a\n")
    result = run_envlock("-v", "compile", "--index-url", kit_index.url)
    assert result.returncode == 1, result.stderr
    assert "requirements.in:1 → a 1.0 → b 1.0 requires Python >=4 (the target is Python 3." in result.stderr
    assert _rounds(result.stderr) < MAX_ROUNDS, result.stderr
