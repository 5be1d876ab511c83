"""Projects with thousands of releases (botocore has ~2,500 versions, ~5,000 files) against the kit
index: a page's entries are validated only for the versions the resolver asks about (each once), each
version judged at most once per target however often the resolver asks, and the resolver looks only at
the versions it needs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from envlock.errors import ResolutionError
from envlock.index import pages
from envlock.index.cache import Cache
from envlock.index.client import IndexClient, IndexSettings
from envlock.index.http import HttpClient, HttpSettings
from envlock.inputs.config import InputRequirement, ResolverOptions
from envlock.resolve import candidates, provider
from envlock.resolve.models import Req, ResolveRequest
from envlock.resolve.resolver import resolve
from tests.kit.big import publish_big
from tests.kit.index import KitIndex
from tests.resolve.test_resolver import LINUX_311

VERSIONS = [f"1.{minor}.{patch}" for minor in range(50) for patch in range(50)]  # 2,500 versions
NEWEST = "1.49.49"


@pytest.fixture
def big_index(kit_index: KitIndex) -> KitIndex:
    # 5,000 files; "app" pins big below 1.1 (the oldest 50 versions), as awscli pins botocore.
    assert publish_big(kit_index, "big", VERSIONS) == 5000
    publish_big(kit_index, "app", ["1.0", "2.0"], requires=lambda v: ("big<1.1",) if v == "2.0" else ("big",))
    return kit_index


def _client(index: KitIndex, cache: Path) -> IndexClient:
    http = HttpClient(HttpSettings(retries=1, backoff=0.01))
    return IndexClient(http, Cache(cache), IndexSettings((index.url,)))


def _request(*lines: str) -> ResolveRequest:
    items = tuple(
        InputRequirement(Requirement(line), f"requirements.in:{n}") for n, line in enumerate(lines, 1)
    )
    return ResolveRequest(requirements=items, target=LINUX_311, prefetch_workers=0)


class _Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed = 0
        self.judged = 0
        original_entry, original_judge = pages._json_entry, candidates.CandidateFinder._judge

        def entry(*args: object, **kwargs: object) -> object:
            self.parsed += 1
            return original_entry(*args, **kwargs)  # type: ignore[arg-type]

        def judge(finder: candidates.CandidateFinder, *args: object) -> object:
            self.judged += 1
            return original_judge(finder, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(pages, "_json_entry", entry)
        monkeypatch.setattr(candidates.CandidateFinder, "_judge", judge)


def test_only_asked_versions_are_validated_and_judged(
    big_index: KitIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _Counter(monkeypatch)
    pins = resolve(_client(big_index, tmp_path / "cache"), _request("app", "big"))
    picked = {p.name: str(p.version) for p in pins.pins}
    assert picked == {"app": "2.0", "big": "1.0.49"}
    # only the entries (two files each) of the versions looked at are validated, each once
    assert counter.parsed == 2 * counter.judged
    # app 2.0's bound is applied before any version of big is judged: only the one chosen is.
    assert counter.judged <= 4
    first_judged = counter.judged

    counter.parsed = counter.judged = 0
    again = resolve(_client(big_index, tmp_path / "cache"), _request("app", "big"))  # a new run, warm cache
    assert again.pins == pins.pins
    assert counter.parsed == 2 * first_judged  # the same few entries, nothing per version of the 2,500
    assert counter.judged == first_judged


def test_newest_version_costs_one_judgement(
    big_index: KitIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _Counter(monkeypatch)
    pins = resolve(_client(big_index, tmp_path / "cache"), _request("big"))
    assert [(p.name, str(p.version)) for p in pins.pins] == [("big", NEWEST)]
    assert counter.judged == 1
    # every file of the chosen version goes into the lock, none of another version
    assert sorted(f.filename for f in pins.pins[0].files) == [
        f"big-{NEWEST}-cp311-cp311-manylinux_2_17_x86_64.whl",
        f"big-{NEWEST}-py3-none-any.whl",
    ]


def test_conflict_on_a_big_project_is_named_and_summarised(big_index: KitIndex, tmp_path: Path) -> None:
    with pytest.raises(ResolutionError) as info:
        resolve(_client(big_index, tmp_path / "cache"), _request("app==2.0", "big>=1.2"))
    message = info.value.message
    assert "requirements.in:2 requires big>=1.2" in message
    assert "requirements.in:1 → app 2.0 requires big<1.1" in message
    assert len(message.splitlines()) < 6


def test_find_matches_reuses_the_judged_facts(big_index: KitIndex, tmp_path: Path) -> None:
    request = _request("big")
    client = _client(big_index, tmp_path / "cache")
    resolver_provider = provider.Provider(client, request, None)
    req = Req(client.project("big").name, frozenset(), Requirement("big<1.1").specifier)
    for _ in range(20):  # resolvelib asks again after every backtrack
        found = resolver_provider.find_matches("big", {"big": iter([req])}, {"big": iter([])})
        assert callable(found)
        assert [str(c.version) for c in found()][:2] == ["1.0.49", "1.0.48"]
    assert resolver_provider.finder.judged == 50


def test_exclude_newer_passes_over_new_versions_without_validating_them(
    kit_index: KitIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one version a day from 2020 on: --exclude-newer keeps the oldest 100 of 2,500 versions
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    stamps = {v: start + timedelta(days=n) for n, v in enumerate(VERSIONS)}
    publish_big(kit_index, "big", VERSIONS, upload_time=stamps.__getitem__)
    counter = _Counter(monkeypatch)
    cutoff = stamps["1.1.49"]
    request = replace(_request("big"), options=ResolverOptions(exclude_newer=cutoff))
    pins = resolve(_client(kit_index, tmp_path / "cache"), request)
    assert [(p.name, str(p.version)) for p in pins.pins] == [("big", "1.1.49")]
    # the 2,400 newer versions are passed over by their upload times alone: only the chosen version
    # is judged in full, and only its two entries are validated
    assert counter.judged == 1
    assert counter.parsed == 2
