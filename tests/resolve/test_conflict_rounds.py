"""Small unsatisfiable sets fail within a few resolver rounds and name both sides of the clash (issue 23).

Every package declares a Requires-Python, as real ones do: before, each added a requirement on the
target's Python, and once backtracking had rejected the Python candidate it was offered again every round,
so these shapes looped to resolvelib's 20,000-round limit ("gave up after too many rounds"). Rounds are
counted from ``-v`` (``resolver work: N rounds, M backtracks``), not timed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

MAX_ROUNDS = 50
VERSIONS = range(1, 9)


def _spec(name: str, version: str, *requires: str, extras: tuple[str, ...] = ()) -> DistSpec:
    return DistSpec(name, version, requires=requires, extras=extras, requires_python=">=3.8")


SHAPES = {
    "a transitive pin against the root's": (
        [_spec("c", f"{n}.0", "a") for n in VERSIONS]
        + [_spec("a", f"{n}.0", "b==2") for n in VERSIONS]
        + [_spec("b", "1"), _spec("b", "2")],
        "c\nb==1\n",
        [
            "requirements.in:2 requires b==1",
            "a 1.0 … 8.0 (8 versions) require b==2",
            "a 1.0 … 8.0 (8 versions) cannot be pinned: their requirements clash with the input's:",
        ],
    ),
    "a local-version clash": (
        [_spec("torch", "2.0.0+cpu"), _spec("torch", "2.0.0+cu121")]
        + [_spec("vision", f"0.{n}", "torch==2.0.0+cu121") for n in VERSIONS],
        "torch==2.0.0+cpu\nvision\n",
        [
            "requirements.in:1 requires torch==2.0.0+cpu",
            "requirements.in:2 → vision 0.1 … 0.8 (8 versions) require torch==2.0.0+cu121",
        ],
    ),
    "an extra incompatible with the root": (
        [_spec("a", "1"), _spec("a", "2")]
        + [_spec("b", f"{n}.0", "a>=2; extra == 'x'", extras=("x",)) for n in VERSIONS],
        "a==1\nb[x]\n",
        ["requirements.in:1 requires a==1", "requirements.in:2 → b[x] 1.0 … 8.0 (8 versions) require a>=2"],
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_unsatisfiable_set_fails_in_a_few_rounds_naming_the_clash(
    shape: str, kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    specs, requirements, expected = SHAPES[shape]
    kit_index.publish(*specs)
    Path("requirements.in").write_text(requirements)
    result = run_envlock("-v", "compile", "--index-url", kit_index.url)
    assert result.returncode == 1, result.stderr
    work = re.search(r"^resolver work: (\d+) rounds?, (\d+) backtracks?$", result.stderr, re.MULTILINE)
    assert work is not None, result.stderr
    assert int(work[1]) < MAX_ROUNDS, result.stderr
    assert "cannot pin" in result.stderr
    for line in expected:
        assert line in result.stderr, result.stderr
    assert "too many rounds" not in result.stderr and "Traceback" not in result.stderr


def test_a_package_needing_a_newer_python_is_named(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    """The requirement on the target's Python is added only when a Requires-Python excludes the target;
    the message still says so. The index does not say it here (its page has no Requires-Python), only
    the package's metadata, so the resolver sees the version and rejects it after reading it."""
    kit_index.features.requires_python = False
    kit_index.publish(_spec("a", "1.0", "b"), DistSpec("b", "1.0", requires_python=">=4"))
    Path("requirements.in").write_text("a\n")
    result = run_envlock("-v", "compile", "--index-url", kit_index.url)
    assert result.returncode == 1, result.stderr
    assert "requirements.in:1 → a 1.0 → b 1.0 requires Python >=4 (the target is Python 3." in result.stderr
    work = re.search(r"^resolver work: (\d+) rounds?", result.stderr, re.MULTILINE)
    assert work is not None and int(work[1]) < MAX_ROUNDS, result.stderr
