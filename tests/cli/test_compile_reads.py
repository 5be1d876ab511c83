"""``envlock compile`` reads each lock once (issue 23, item 5): the previous lock is parsed once for its
settings, the "kept" verdict and the pins it keeps; the lock it writes is not parsed again to judge it
(only the sync cache's read of new bytes parses it, ``selection_cache.prime``). Counted in TOML parses,
not timed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.cli.test_compile_cli import basic
from tests.kit.index import KitIndex

# Runs ``envlock ARGS`` with every TOML parse counted by the sha256 of the text parsed (written to
# PARSES, a JSON file), the way ``python -m envlock`` runs it.
_COUNTING = """
import atexit, hashlib, json, os, runpy, sys
from envlock.tomlshim import tomllib
parsed = []
_loads = tomllib.loads
def loads(text, **kw):
    parsed.append(hashlib.sha256(text.encode()).hexdigest())
    return _loads(text, **kw)
tomllib.loads = loads
atexit.register(lambda: open(os.environ["PARSES"], "w").write(json.dumps(parsed)))
sys.argv = ["envlock", *sys.argv[1:]]
runpy.run_module("envlock", run_name="__main__")
"""


def _compile_counted(tmp_path: Path, index: KitIndex) -> tuple[str, Counter[str]]:
    """Compile with each TOML parse counted: what compile said, and text sha256 -> parses."""
    parses = tmp_path / "parses.json"
    env = {**os.environ, "PARSES": str(parses), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-c", _COUNTING, "compile", "--index-url", index.url],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    )
    return result.stdout, Counter(json.loads(parses.read_text()))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_text(encoding="utf-8").encode()).hexdigest()


def test_a_recompile_parses_the_previous_lock_once_and_the_new_one_at_most_once(
    kit_index: KitIndex, isolated: Path, tmp_path: Path
) -> None:
    index = kit_index
    basic(index)
    lock = isolated / "pylock.toml"
    (isolated / "requirements.in").write_text("alpha\n")
    said, parses = _compile_counted(tmp_path, index)
    assert "wrote pylock.toml" in said
    first = _sha(lock)
    assert parses[first] == 1  # the sync cache's read of the new bytes (prime), never a re-read to judge it

    (isolated / "requirements.in").write_text("alpha\nbeta<2.1\n")
    said, parses = _compile_counted(tmp_path, index)
    assert "wrote pylock.toml" in said
    second = _sha(lock)
    assert second != first
    assert parses[first] == 1  # the previous lock: settings, verdict and pins from one parse
    assert parses[second] == 1

    # What compile judged from the lock it wrote is what a read of it gives: the same command is now
    # answered "up to date" from the remembered verdict, without parsing anything.
    said, parses = _compile_counted(tmp_path, index)
    assert "inputs unchanged" in said and _sha(lock) == second
    assert parses[second] == 0


_MODULES = """
import runpy, sys
sys.argv = ["envlock", *sys.argv[1:]]
try:
    runpy.run_module("envlock", run_name="__main__")
except SystemExit:
    pass
print(",".join(sorted(sys.modules)))
"""


def test_a_warm_compile_loads_no_http_or_download_code(
    kit_index: KitIndex, isolated: Path, tmp_path: Path
) -> None:
    """Every page fresh in the cache and every metadata parsed: the compile makes no request, so it does
    not load the HTTP client's modules (sockets, deadlines, limits) nor the downloader."""
    from envlock.index.cache import Cache
    from tests.index.test_index import make_fresh

    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    cache = tmp_path / "cache"
    args = ["compile", "--index-url", kit_index.url, "--cache-dir", str(cache)]
    subprocess.run([sys.executable, "-m", "envlock", *args], check=True, capture_output=True, timeout=600)
    for name in ("alpha", "beta"):
        make_fresh(Cache(cache), f"{kit_index.url}{name}/")
    first = (isolated / "pylock.toml").read_bytes()
    (isolated / "pylock.toml").unlink()
    before = len(kit_index.requests)
    result = subprocess.run(
        [sys.executable, "-c", _MODULES, *args], capture_output=True, text=True, check=True, timeout=600
    )
    assert "wrote pylock.toml" in result.stdout + result.stderr
    assert (isolated / "pylock.toml").read_bytes() == first and len(kit_index.requests) == before
    loaded = set(result.stdout.strip().splitlines()[-1].split(","))
    assert "envlock.resolve.resolver" in loaded  # it did resolve
    heavy = {"envlock.index.http", "envlock.index.deadline", "envlock.index.download", "socket", "urllib3"}
    assert not heavy & loaded, sorted(heavy & loaded)


_COLLECTIONS = """
import gc, runpy, sys
import envlock.resolve.job as job
inside, collections = [False], []
gc.callbacks.append(lambda phase, info: phase == "start" and inside[0] and collections.append(info))
_run = job.run_compile
def run_compile(*args, **kwargs):
    inside[0] = True
    try:
        return _run(*args, **kwargs)
    finally:
        inside[0] = False
job.run_compile = run_compile
sys.argv = ["envlock", *sys.argv[1:]]
try:
    runpy.run_module("envlock", run_name="__main__")
except SystemExit:
    pass
print("collections during the job:", len(collections), "frozen:", gc.get_freeze_count() > 0)
"""


def test_the_compile_job_runs_without_collections_and_keeps_what_it_made_out_of_later_ones(
    kit_index: KitIndex, isolated: Path
) -> None:
    """A resolution's objects live until its lock is written: Python's cyclic collector, run every 700
    allocations, walked them again and again (its collections freed almost nothing). The compile process
    runs the job without it, then freezes what the job made (left out of later collections, the final
    one at the process's end included)."""
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    result = subprocess.run(
        [sys.executable, "-c", _COLLECTIONS, "compile", "--index-url", kit_index.url],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert "wrote pylock.toml" in result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "collections during the job: 0 frozen: True"
