"""Differential tests: envlock and pip-compile (pip-tools) pin the same versions on generated scenarios.

pip-compile runs isolated from this machine's configuration (PIP_CONFIG_FILE=/dev/null from the kit's
``isolated`` fixture, ``--no-config``, its own cache folder, only the kit index). Any difference must be
a documented policy choice (docs/compile.md, "Differences from pip-compile"); the test checks that
each difference it sees is one of them:

- prerelease-fallback: when no final release satisfies the requirements, envlock takes a prerelease;
  pip (23.x, packaging 21) does so only for a requirement with no specifier at all, and counts yanked
  or Requires-Python-excluded finals as "a final exists" — so it reports no matching distribution.

Scenarios ``0 .. STRICT-1`` use final releases only (yanked, post releases, Requires-Python, every
specifier kind): there the pins must be identical, no exception. Later scenarios add prereleases.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from envlock.lock.lockfile import read_lock
from tests.kit.dists import DistSpec
from tests.kit.index import IndexFeatures, KitIndex

pytestmark = pytest.mark.oracle

VERSIONS = ["0.9", "1.0", "1.1", "1.2.post1", "2.0", "2.1b1", "2.1", "3.0rc1"]
FINAL_VERSIONS = ["0.9", "1.0", "1.1", "1.2.post1", "2.0", "2.1", "3.0"]
SPECIFIERS = ["", ">=1.0", "<2", ">=1.1,<3", "!=2.0", "~=1.0", ">=0.9,!=1.1", "<=2.0", ">1.0"]
SCENARIOS = 36
STRICT = 24
"""Scenarios below this seed have no prereleases: envlock and pip-compile must agree exactly."""


@dataclass(frozen=True)
class Scenario:
    specs: tuple[DistSpec, ...]
    yanked: tuple[str, ...]
    """Filenames' project-version strings published as yanked (``name-version``)."""
    requirements: tuple[str, ...]


def generate(seed: int) -> Scenario:
    rng = random.Random(seed)
    count = rng.randint(3, 6)
    names = [f"p{seed}x{i}" for i in range(count)]
    specs: list[DistSpec] = []
    yanked: list[str] = []
    pool = FINAL_VERSIONS if seed < STRICT else VERSIONS
    for index, name in enumerate(names):
        versions = sorted(rng.sample(pool, rng.randint(2, 4)), key=pool.index)
        for version in versions:
            requires = []
            for other in names[index + 1 :]:
                if rng.random() < 0.45:
                    requires.append(other + rng.choice(SPECIFIERS))
            requires_python = ">=3.99" if rng.random() < 0.1 else None
            specs.append(DistSpec(name, version, requires=tuple(requires), requires_python=requires_python))
        finals = [v for v in versions if not any(c in v for c in "abr")]
        if len(finals) > 1 and rng.random() < 0.25:
            yanked.append(f"{name}-{finals[-1]}")
    roots = rng.sample(names[: max(2, count // 2)], rng.randint(1, min(2, count)))
    requirements = tuple(root + rng.choice(SPECIFIERS) for root in sorted(roots))
    return Scenario(tuple(specs), tuple(yanked), requirements)


def publish(index: KitIndex, scenario: Scenario) -> None:
    for spec in scenario.specs:
        key = f"{spec.name}-{spec.version}"
        index.publish(spec, yanked="oracle" if key in scenario.yanked else None)


def pip_compile(index_url: str, work: Path) -> dict[str, str] | None:
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1"}
    out = work / "requirements.txt"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "piptools",
            "compile",
            "--no-config",
            "--quiet",
            "--no-header",
            "--no-annotate",
            "--no-emit-index-url",
            "--strip-extras",
            "--index-url",
            index_url,
            "--cache-dir",
            str(work / "pip-tools-cache"),
            "--output-file",
            str(out),
            str(work / "requirements.in"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        return None
    pins = {}
    for line in out.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip()] = version.strip()
    return pins


def envlock_compile(run_envlock: Callable[..., Any], index_url: str, work: Path) -> dict[str, str] | None:
    result = run_envlock("compile", "--index-url", index_url, cwd=work)
    if result.returncode != 0:
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        return None
    return {p.name: str(p.version) for p in read_lock(work / "pylock.toml").packages}


@pytest.fixture(scope="module")
def piptools_available() -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "piptools", "compile", "--help"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("pip-tools is not installed in the dev venv (pip install pip-tools)")


@pytest.mark.parametrize("seed", range(SCENARIOS))
def test_same_pins_as_pip_compile(
    seed: int,
    piptools_available: None,
    kit_index_factory: Callable[..., KitIndex],
    run_envlock: Callable[..., Any],
    isolated: Path,
) -> None:
    scenario = generate(seed)
    index = kit_index_factory(IndexFeatures(json=seed % 2 == 0))
    publish(index, scenario)
    (isolated / "requirements.in").write_text("\n".join(scenario.requirements) + "\n")
    ours = envlock_compile(run_envlock, index.url, isolated)
    theirs = pip_compile(index.url, isolated)
    if ours == theirs:
        return
    assert seed >= STRICT, f"scenario {seed}: {scenario.requirements}\nenvlock: {ours}\npip-compile: {theirs}"
    explained = documented_difference(scenario, ours, theirs)
    assert explained, f"scenario {seed}: {scenario.requirements}\nenvlock: {ours}\npip-compile: {theirs}"
    pytest.xfail(f"documented policy difference: {explained}")


def documented_difference(
    scenario: Scenario, ours: dict[str, str] | None, theirs: dict[str, str] | None
) -> str | None:
    """The name of the documented policy that explains a difference, or None."""
    if ours is not None and theirs is None and any(Version(v).is_prerelease for v in ours.values()):
        return "prerelease-fallback"
    return None


def test_at_least_twenty_strict_scenarios() -> None:
    assert STRICT >= 20
    assert not any(Version(d.version).is_prerelease for s in range(STRICT) for d in generate(s).specs)


def test_generator_covers_the_interesting_cases() -> None:
    scenarios = [generate(seed) for seed in range(SCENARIOS)]
    assert sum(bool(s.yanked) for s in scenarios) >= 3
    assert sum(any(d.requires_python for d in s.specs) for s in scenarios) >= 3
    assert sum(any(Version(d.version).is_prerelease for d in s.specs) for s in scenarios) >= 8
