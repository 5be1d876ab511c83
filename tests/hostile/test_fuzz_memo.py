"""Damaged remembered answers (issue 26.2): hypothesis damages real entries of each memo kind (torn, bit
flips, bytes inserted or cut, replaced whole) and writes entries with a sound header around any body; the
memoized function must then answer exactly as with no cache (a miss: the answer is computed again), or,
for a sound entry of another shape, answer without an exception. Entries that are not regular files (a
folder, a FIFO, a link) and oversized ones are misses too, and a read never waits."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envlock import memo
from envlock.env import probe_cache
from envlock.env.interpreter import InterpreterInfo, probe, run_subprocess
from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.inputs import fresh_cache, kept_cache
from envlock.resolve.metadata_memo import MetadataMemo

FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class Kind:
    """One kind of remembered answer, driven through its real memoized function."""

    area: str
    prime: Callable[[], object]
    """Makes the entry (through the memoized function, or as its encoder writes it)."""
    ask: Callable[[], object]
    """Calls the memoized function; its answer."""
    computed: Callable[[], int]
    """How many times the answer was computed so far (a miss adds one)."""
    expected: object
    """The answer with no cache."""


def _probe_kind(root: Path) -> Kind:
    runs = [0]

    def runner(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        runs[0] += 1
        return run_subprocess(command)

    remembered = memo.Memo(probe_cache.AREA, root)

    def ask() -> object:
        return probe_cache.cached_probe(sys.executable, runner, remembered)

    return Kind(probe_cache.AREA, ask, ask, lambda: runs[0], probe(sys.executable))


def _metadata_kind(root: Path) -> Kind:
    builds = [0]
    metadata = CoreMetadata("lib", "1.0", ("beta>=2",), ">=3.8", ("extra",))

    def build() -> CoreMetadata:
        builds[0] += 1
        return metadata

    remembered = MetadataMemo.open(Cache(root))

    def ask() -> object:
        return remembered.through("the key", build)

    return Kind("source-metadata", ask, ask, lambda: builds[0], metadata)


def _kept_kind(root: Path) -> Kind:
    lock = root.parent / "pylock.toml"
    lock.write_text("lock\n")
    digest = kept_cache.file_digest(str(lock))
    verdict = {"message": "pylock.toml is up to date", "lock": [str(lock), digest]}
    verdict |= {"files": {}, "interpreters": {}, "variables": {}}
    misses = [0]

    def ask() -> object:
        found = kept_cache.recall("k" * 64, str(root))
        if found is None:  # the full compile would run (and remember its verdict)
            misses[0] += 1
            kept_cache.remember("k" * 64, str(root), verdict)
            return "the full compile"
        return found

    return Kind(kept_cache.CACHE_AREA, ask, ask, lambda: misses[0], "the full compile")


def _fresh_kind(root: Path) -> Kind:
    """A fresh verdict remembered for a lock that records no fingerprint (so its real verdict is unknown):
    only a believed entry can answer fresh."""
    lock = root.parent / "pylock.toml"
    lock.write_text('lock-version = "1.0"\n')
    key = memo.key(fresh_cache.CACHE_AREA, "fuzz")
    answers = []

    def prime() -> object:
        fresh_cache.verdicts(root).remember(key, fresh_cache.FRESH.encode())
        return fresh_cache.FRESH

    def ask() -> object:
        state = fresh_cache.judged(str(lock), key, fresh_cache.verdicts(root))[0]
        answers.append(state)
        return state

    def computed() -> int:
        return sum(answer != fresh_cache.FRESH for answer in answers)

    return Kind(fresh_cache.CACHE_AREA, prime, ask, computed, fresh_cache.UNKNOWN)


KINDS: dict[str, Callable[[Path], Kind]] = {
    "probe": _probe_kind,
    "source-metadata": _metadata_kind,
    "compile-kept": _kept_kind,
    "freshness": _fresh_kind,
}


def _entry(root: Path, kind: Kind) -> Path:
    (entry,) = (root / memo.LAYOUT / kind.area).iterdir()
    return entry


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` torn, flipped, cut, grown or replaced (never left as it was)."""
    how = draw(st.sampled_from(["truncate", "flip", "insert", "cut", "append", "replace"]))
    at = draw(st.integers(0, 1 << 20)) % max(1, len(original))  # (entries differ in length run to run)
    if how == "truncate":
        found = original[:at]
    elif how == "flip" and original:
        found = original[:at] + bytes([original[at] ^ draw(st.integers(1, 255))]) + original[at + 1 :]
    elif how == "insert":
        found = original[:at] + draw(st.binary(min_size=1, max_size=16)) + original[at:]
    elif how == "cut":
        found = original[:at] + original[at + draw(st.integers(1, 16)) :]
    elif how == "append":
        found = original + draw(st.binary(min_size=1, max_size=16))
    else:
        found = draw(st.binary(max_size=256))
    return found if found != original else original + b"\0"


@pytest.mark.parametrize("name", sorted(KINDS))
@FUZZ
@given(data=st.data())
def test_any_damage_to_an_entry_is_a_miss(
    name: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("cache") / "cache"
    kind = KINDS[name](root)
    kind.prime()
    entry = _entry(root, kind)
    before = kind.computed()
    entry.write_bytes(data.draw(damaged(entry.read_bytes())))
    assert kind.ask() == kind.expected
    assert kind.computed() == before + 1  # a miss: computed again


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def _sound(entry: Path, body: bytes) -> None:
    """A well-formed entry (header naming its key and the body's sha256) around ``body``."""
    header = b"\t".join((memo.FORMAT, entry.name.encode(), hashlib.sha256(body).hexdigest().encode()))
    entry.write_bytes(header + b"\n" + body)


@pytest.mark.parametrize("name", sorted(KINDS))
@FUZZ
@given(
    body=st.binary(max_size=300) | JSONISH.map(lambda value: json.dumps(value).encode()), mutate=st.booleans()
)
def test_a_sound_entry_of_another_shape_never_raises(
    name: str, body: bytes, mutate: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("cache") / "cache"
    kind = KINDS[name](root)
    kind.prime()
    entry = _entry(root, kind)
    if mutate and name == "probe":  # the real answer with one field replaced
        record = json.loads(entry.read_bytes().partition(b"\n")[2])
        field = sorted(record["answer"])[len(body) % len(record["answer"])]
        record["answer"][field] = (
            json.loads(body) if body[:1] in b'[{"n0123456789-tf' and _json(body) else None
        )
        body = json.dumps(record).encode()
    _sound(entry, body)
    found = kind.ask()
    assert isinstance(found, type(kind.expected)), found
    if isinstance(found, InterpreterInfo):
        assert not found.is_venv or all(
            os.path.normpath(folder).startswith(found.prefix) for folder in found.scheme.as_dict().values()
        )


def _json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(KINDS))
@pytest.mark.parametrize("shape", ["folder", "fifo", "link to a sound entry", "oversized"])
def test_an_entry_that_is_not_a_small_regular_file_is_a_miss(name: str, shape: str, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    kind = KINDS[name](root)
    kind.prime()
    entry = _entry(root, kind)
    good = entry.read_bytes()
    before = kind.computed()
    entry.unlink()
    if shape == "folder":
        entry.mkdir()
    elif shape == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("FIFOs are POSIX")
        os.mkfifo(entry)
    elif shape == "link to a sound entry":
        (tmp_path / "elsewhere").write_bytes(good)
        entry.symlink_to(tmp_path / "elsewhere")
    else:
        _sound(entry, good.partition(b"\n")[2] + b" " * memo.MAX_ENTRY_BYTES)
    assert kind.ask() == kind.expected
    assert kind.computed() == before + 1
