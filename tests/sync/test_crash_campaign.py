"""Kill campaigns (issue 7, promises 1, 2 and 5; docs/safety.md).

A real ``envlock sync`` subprocess patches a real venv from the OLD to the NEW lock of tests.kit.crash_kit
(adds, a removal, upgrades, a 300-file distribution, scripts, headers, data) and is SIGKILLed (its whole
process group) after a random delay spread over the measured duration of the sync; then
``envlock check`` must fail unless the independent verifier finds the venv exactly at the lock (no
false clean), and a plain ``envlock sync`` must bring it exactly to the lock (no repair failure).
Trials: ``ENVLOCK_KILL_TRIALS`` (default 30, split between a warm and a cold cache), seed
``ENVLOCK_KILL_SEED`` (printed). A second campaign kills at every named checkpoint of the sync, so
narrow windows (between the two renames of a rebuild, between commit and stamp) are hit for sure.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kit.crash_kit import NEW, Scenario, envlock, expected, make_scenario, siblings, verify_venv
from tests.kit.index import KitIndex

TRIALS = int(os.environ.get("ENVLOCK_KILL_TRIALS", "30"))
BASE_SEED = int(os.environ.get("ENVLOCK_KILL_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)


@pytest.fixture
def scenario(kit_index: KitIndex, tmp_path: Path) -> Scenario:
    return make_scenario(kit_index, tmp_path / "project")


def _phase(venv: Path, returncode: int) -> str:
    """Where the kill landed, read from what it left."""
    state = venv / ".envlock"
    if returncode == 0:
        return "finished"
    if not (venv / "pyvenv.cfg").exists():
        return "swapping"
    if (state / "journal").exists() or (state / "stash").exists() or (state / "tmp").exists():
        return "applying"
    if (state / "sync-in-progress").exists():
        return "marked"
    return "before-touching"


def _report(line: str) -> None:
    print(line)
    target = os.environ.get("ENVLOCK_KILL_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _measure(scenario: Scenario, cache_for: Callable[[str], Path]) -> float:
    """Median wall time of three uninterrupted syncs OLD -> NEW (also a sanity check of the scenario)."""
    durations = []
    for attempt in range(3):
        scenario.fresh_venv()
        started = time.monotonic()
        result = envlock("sync", cwd=scenario.work, cache=cache_for(f"measure-{attempt}"))
        durations.append(time.monotonic() - started)
        assert result.returncode == 0, result.stderr
        assert verify_venv(scenario.venv, expected(NEW), scenario.baseline) == []
    return sorted(durations)[1]


@pytest.mark.parametrize("cache_kind", ["warm", "cold"])
def test_random_sigkill_campaign(scenario: Scenario, cache_kind: str, tmp_path: Path) -> None:
    trials = (TRIALS + 1) // 2 if cache_kind == "warm" else TRIALS // 2
    seed = BASE_SEED + (0 if cache_kind == "warm" else 1)
    rng = random.Random(seed)
    want = expected(NEW)

    def cache_for(trial: str) -> Path:
        return scenario.warm_cache if cache_kind == "warm" else tmp_path / f"cold-{trial}"

    duration = _measure(scenario, cache_for)
    phases: Counter[str] = Counter()
    delays: list[float] = []
    false_cleans: list[str] = []
    repair_failures: list[str] = []
    for trial in range(trials):
        venv = scenario.fresh_venv()
        cache = cache_for(str(trial))
        delay = rng.uniform(0.0, duration)
        delays.append(delay)
        env = {**os.environ, "ENVLOCK_CACHE_DIR": str(cache)}
        process = subprocess.Popen(
            [sys.executable, "-m", "envlock", "sync"],
            cwd=scenario.work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        returncode = process.wait(timeout=60)
        phase = _phase(venv, returncode)
        phases[phase] += 1
        torn = verify_venv(venv, want, scenario.baseline)
        check = envlock("check", cwd=scenario.work, cache=cache)
        if check.returncode == 0 and torn:
            false_cleans.append(f"trial {trial} ({phase}, {delay:.3f}s): {torn[:3]}")
        repair = envlock("sync", cwd=scenario.work, cache=cache)
        problems = verify_venv(venv, want, scenario.baseline)
        after = envlock("check", cwd=scenario.work, cache=cache)
        if repair.returncode != 0 or problems or after.returncode != 0 or siblings(scenario.work):
            detail = repair.stderr.strip()[-300:]
            repair_failures.append(
                f"trial {trial} ({phase}, {delay:.3f}s): exit {repair.returncode} {detail}"
                f" check {after.returncode} {problems[:3]} {siblings(scenario.work)}"
            )
    _report(
        f"kill campaign [{cache_kind} cache] seed={seed} trials={trials} sync={duration:.3f}s "
        f"delays={min(delays):.3f}..{max(delays):.3f}s phases={dict(sorted(phases.items()))} "
        f"false_cleans={len(false_cleans)} repair_failures={len(repair_failures)}"
    )
    assert false_cleans == [], f"seed {seed}: " + "\n".join(false_cleans)
    assert repair_failures == [], f"seed {seed}: " + "\n".join(repair_failures)


# ---------------------------------------------------------------------------------------------------
# every named checkpoint

DRIVER = """
import os, signal, sys, threading
from pathlib import Path
from envlock.sync.syncer import SyncEdges, SyncOptions, sync

point, nth, rebuild = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
lock, seen = threading.Lock(), [0]

def checkpoint(name):
    if name != point:
        return
    with lock:
        seen[0] += 1
        hit = seen[0] == nth
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)

sync(SyncOptions(lock_path=Path("pylock.toml"), venv=Path(".venv"), rebuild=rebuild),
     SyncEdges(checkpoint=checkpoint))
sys.exit(3)  # the point was not reached nth times
"""


def _kill_at(scenario: Scenario, cache: Path, point: str, nth: int, *, rebuild: bool) -> None:
    """A sync of the scenario with ``cache`` that SIGKILLs itself the ``nth`` time it reaches ``point``."""
    killed = subprocess.run(
        [sys.executable, "-c", DRIVER, point, str(nth), "1" if rebuild else "0"],
        cwd=scenario.work,
        env={**os.environ, "ENVLOCK_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)


PATCH_POINTS = [
    ("fetched", 1),
    ("marker", 1),
    ("file-stashed", 1),
    ("file-stashed", 150),
    ("uninstalled", 1),
    ("uninstalled", 3),
    ("wheel-announced", 1),
    ("wheel-announced", 3),
    ("file-written", 1),
    ("file-written", 250),
    ("dist-info-staged", 1),
    ("dist-info-in", 1),
    ("dist-info-in", 3),
    ("installed", 1),
    ("committed", 1),
    ("applied", 1),
    ("stamped", 1),
]
REBUILD_POINTS = [
    ("staging-created", 1),
    ("wheel-announced", 2),
    ("file-written", 120),
    ("dist-info-in", 4),
    ("swap-journal", 1),
    ("swap-between", 1),
    ("swapped", 1),
    ("stamped", 1),
]


@pytest.mark.parametrize(
    ("point", "nth", "rebuild"),
    [(p, n, False) for p, n in PATCH_POINTS] + [(p, n, True) for p, n in REBUILD_POINTS],
    ids=[f"patch-{p}-{n}" for p, n in PATCH_POINTS] + [f"rebuild-{p}-{n}" for p, n in REBUILD_POINTS],
)
def test_sigkill_at_every_checkpoint(scenario: Scenario, point: str, nth: int, rebuild: bool) -> None:
    venv = scenario.fresh_venv()
    _kill_at(scenario, scenario.warm_cache, point, nth, rebuild=rebuild)
    want = expected(NEW)
    torn = verify_venv(venv, want, scenario.baseline)
    check = envlock("check", cwd=scenario.work, cache=scenario.warm_cache)
    assert check.returncode != 0 or not torn, f"false clean: {torn}"
    if point == "swap-between":
        assert "rebuild of .venv was interrupted" in check.stderr
    repair = envlock("sync", cwd=scenario.work, cache=scenario.warm_cache)
    assert repair.returncode == 0, repair.stderr
    assert verify_venv(venv, want, scenario.baseline) == []
    assert envlock("check", cwd=scenario.work, cache=scenario.warm_cache).returncode == 0
    assert siblings(scenario.work) == []


@pytest.mark.parametrize("nth", [1, 3])
def test_sigkill_while_unpacking_into_the_store(scenario: Scenario, nth: int, tmp_path: Path) -> None:
    """A cold store: the kill lands after a wheel's files are unpacked, before its entry is renamed in
    (the venv is not touched yet). The next sync unpacks again and links nothing half-made."""
    venv = scenario.fresh_venv()
    cache = tmp_path / "cold"
    _kill_at(scenario, cache, "store-unpacked", nth, rebuild=False)
    assert list(cache.glob("*/unpacked/.tmp-*")), "the kill left no half-made entry"
    want = expected(NEW)
    assert envlock("check", cwd=scenario.work, cache=cache).returncode != 0  # still the OLD lock
    repair = envlock("sync", cwd=scenario.work, cache=cache)
    assert repair.returncode == 0, repair.stderr
    assert verify_venv(venv, want, scenario.baseline) == []
    assert envlock("check", "--deep", cwd=scenario.work, cache=cache).returncode == 0
    assert not list(cache.glob("*/unpacked/.tmp-*")), "the next sync left the killed one's folder"


def test_swap_journal_rolls_back_when_the_new_venv_is_gone(tmp_path: Path) -> None:
    """Between the renames with no usable new venv: the previous venv is put back."""
    from envlock.env import venvs

    venv = tmp_path / ".venv"
    old = tmp_path / "..venv.envlock-old-0001"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(old)], check=True)
    (venv / ".envlock").mkdir(parents=True)  # the lock-only folder a waiting sync creates
    venvs.swap_journal_path(venv).write_text(
        '{"new": "..venv.envlock-new-0002", "old": "..venv.envlock-old-0001"}'
    )
    changed, notes = venvs.recover_rebuild(venv)
    assert changed and notes == ["rolled back the swap of an interrupted rebuild"]
    assert venvs.is_venv(venv) and not list(tmp_path.glob("..venv.envlock-*"))
