"""The differential's own proofs: ``ENVLOCK_NO_MEMO=1`` turns every memo off (nothing is answered before
click, nothing remembered is read or written), the fast side of the bench does answer from its memos, and
a memo made to disagree (a wrong but well-formed remembered answer planted in its owner's cache) is
reported by ``disagreement``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from envlock import memo, runtime
from envlock.inputs import fresh_cache, kept_cache
from tests.differential.bench import REQUIREMENTS, Bench, append, build_bench, disagreement, edit_text
from tests.kit.index import KitIndex

MEMO_AREAS = tuple(
    f"{memo.LAYOUT}/{area}"
    for area in (
        fresh_cache.CACHE_AREA,
        kept_cache.CACHE_AREA,
        "selections",
        "interpreters",
        "source-metadata",
    )
)
ANSWER = "import sys\nfrom envlock.quick import answer\nprint(answer(sys.argv[1:]))"
PLAIN_COMMANDS = (("sync",), ("check",), ("compile",))
STALE = edit_text("requirements.in", append("epsilon\n"))
"""An input edit the lock does not reflect (``check`` reports it, ``compile`` writes a new lock)."""


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    root = tmp_path_factory.mktemp("detector")
    with KitIndex(root / "index") as index:
        yield build_bench(root / "bench", index)


def entries(bench: Bench) -> dict[str, set[tuple[str, int]]]:
    """The remembered answers in the bench's cache, by area: each entry's path and mtime (a rewrite
    counts)."""
    return {
        area: {(str(p), p.stat().st_mtime_ns) for p in (bench.cache / area).rglob("*")} for area in MEMO_AREAS
    }


def quick_answer(bench: Bench, args: tuple[str, ...], *, memo: bool) -> str:
    """What ``envlock.quick.answer`` gives (an exit code, or None: click's path)."""
    env = bench.env if memo else {**bench.env, "ENVLOCK_NO_MEMO": "1"}
    code = [sys.executable, "-c", ANSWER, *args]
    result = subprocess.run(code, cwd=bench.project, env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_no_memo_reads_and_writes_no_remembered_answer(bench: Bench) -> None:
    bench.reset()
    before = entries(bench)
    for args in PLAIN_COMMANDS:
        assert bench.run(args, memo=False).code == 0
    assert entries(bench) == before  # nothing written
    for args in PLAIN_COMMANDS:
        assert bench.run(args).code == 0
        assert quick_answer(bench, args, memo=False) == "None"
    written = entries(bench)
    assert (
        written[f"{memo.LAYOUT}/{fresh_cache.CACHE_AREA}"]
        and written[f"{memo.LAYOUT}/{kept_cache.CACHE_AREA}"]
    )
    # Every command answered before click from what it remembered, and declined under the switch.
    for args in PLAIN_COMMANDS:
        assert quick_answer(bench, args, memo=True) == "0"
        assert quick_answer(bench, args, memo=False) == "None"


def plant_fresh_verdict(bench: Bench) -> None:
    """A fresh verdict for the lock and the inputs as they are now: wrong after ``STALE``."""
    data = json.loads(Path(runtime.stamp_path(bench.venv)).read_text())
    key = fresh_cache.cache_key(data, str(bench.project / "pylock.toml"), current=True)
    assert key is not None
    fresh_cache.verdicts(bench.cache).remember(key, fresh_cache.FRESH.encode())


def plant_kept_verdict(bench: Bench) -> None:
    """Every remembered "lock kept" verdict made to vouch for requirements.in as it is now."""
    path = bench.project / "requirements.in"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    verdicts = list((bench.cache / memo.LAYOUT / kept_cache.CACHE_AREA).iterdir())
    assert verdicts
    for verdict in verdicts:  # the memo's body (after its header line), rewritten as a sound entry
        rows = verdict.read_bytes().partition(b"\n")[2].decode().splitlines(keepends=True)
        mine = f"file\t{path}\t"
        body = "".join(mine + digest + "\n" if row.startswith(mine) else row for row in rows)
        memo.Memo(kept_cache.CACHE_AREA, bench.cache).remember(verdict.name, body.encode())


@pytest.mark.parametrize(
    ("args", "plant"),
    [(("check",), plant_fresh_verdict), (("compile",), plant_kept_verdict)],
    ids=["fresh verdict for an edited input", "kept verdict for an edited input"],
)
def test_a_memo_made_to_disagree_is_reported(bench: Bench, args: tuple[str, ...], plant: object) -> None:
    assert callable(plant)
    honest = bench.outcomes(args, [STALE], memo=True)
    full = bench.outcomes(args, [STALE], memo=False)
    assert disagreement(honest, full) is None
    assert full[1].code != 0 or "wrote" in full[1].stdout, full  # the full path sees the edit
    planted = bench.outcomes(args, [STALE], memo=True, plant=plant)
    found = disagreement(planted, full)
    assert found is not None and found.startswith("run 2:"), found
    assert planted[1].code == 0 and planted[1] != full[1]
    # ENVLOCK_NO_MEMO reads no remembered answer: the planted one is ignored.
    assert bench.outcomes(args, [STALE], memo=False, plant=plant) == full


def test_the_bench_starts_from_the_base_project(bench: Bench) -> None:
    bench.reset()
    assert (bench.project / "requirements.in").read_text() == REQUIREMENTS
    assert bench.run(("check",)).code == 0


TORN_STAMP = """\
import sys
from envlock.runtime import json_loads as _json_loads
assert "json.decoder" not in sys.modules  # as on the answer before click
try:
    _json_loads(b'{"format": 1, "ab')
except ValueError as error:
    print(type(error).__name__, error)
"""


def test_a_torn_stamp_is_a_value_error_before_json_is_imported(bench: Bench) -> None:
    """Found by the differential (``check`` after "venv: stamp torn"): before 3.12, CPython's JSON scanner
    cannot raise its error until ``json.decoder`` is imported, and the answer before click crashed with a
    SystemError traceback where click's path reported the unusable stamp."""
    result = subprocess.run(
        [sys.executable, "-c", TORN_STAMP], env=bench.env, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "JSONDecodeError Unterminated string starting at: line 1 column 15 (char 14)\n"
