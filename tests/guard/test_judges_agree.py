"""The launch-time check (``runtime/drift.py``, standard library only) and the staleness judge
(``inputs.freshness``) are two implementations; on the same edits of a synced project's inputs the guard
must never call fresh what the judge calls stale (it may be stricter: it cannot parse the inputs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envlock.inputs.freshness import FRESH, STALE, verdict
from envlock.runtime import drift
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

BASE = "alpha\nbeta>=1\n"
EDITS = {
    "unchanged": BASE,
    "a requirement added": BASE + "gamma\n",
    "a requirement removed": "alpha\n",
    "a specifier changed": "alpha\nbeta>=2\n",
    "an option line added": "--pre\n" + BASE,
    "a comment added": "# pinned by the platform team\n" + BASE,
}


@pytest.fixture
def synced(kit_index: KitIndex, run_envlock: RunEnvlock) -> Path:
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("beta", "1.0"), DistSpec("gamma", "1.0"))
    Path("requirements.in").write_text(BASE)
    assert run_envlock("compile", "--index-url", kit_index.url).returncode == 0
    result = run_envlock("sync", "--venv", ".venv")
    assert result.returncode == 0, result.stderr
    return Path("pylock.toml")


def test_the_guard_never_calls_fresh_what_the_judge_calls_stale(synced: Path) -> None:
    for label, text in EDITS.items():
        Path("requirements.in").write_text(text)
        judged = verdict(synced, os.environ).state
        guard = drift.check(".venv", drift.CheckOptions(lock=str(synced)))
        guard_stale = any(d.kind == drift.LOCK_STALE for d in guard.drifts)
        if judged == STALE:
            assert guard_stale, f"{label}: the judge says stale, the guard says fresh"
        if label == "unchanged":
            assert judged == FRESH and guard.ok, label
        if label == "a comment added":  # compile-neutral: the guard is stricter, the judge clears it
            assert judged == FRESH and guard_stale, label
