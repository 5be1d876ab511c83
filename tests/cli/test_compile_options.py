"""``envlock compile`` options of issue 12 end to end against the kit index: ``--exclude-newer`` (and
``[tool.envlock] exclude-newer``), ``--python`` with a relative path or with ``--python-version``, and
small unsatisfiable graphs, each failing with the clashing requirements named."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from envlock.lock.lockfile import read_lock
from envlock.tomlshim import tomllib
from tests.kit.dists import DistSpec
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


SHAPES = {
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
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 1, result.stderr
    for line in expected:
        assert line in result.stderr, result.stderr
    assert "too many rounds" not in result.stderr and "Traceback" not in result.stderr
