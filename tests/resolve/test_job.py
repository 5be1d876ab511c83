"""The compile job (``resolve.job``) called directly, without click: its client factory, cache, clock and
sink handed in, its outcome returned as a value. Work is counted (clients made, index requests,
provider calls), never timed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from envlock.errors import StaleLockError
from envlock.index.cache import Cache
from envlock.index.client import IndexClient, IndexSettings
from envlock.index.metadata import MetadataBuilder
from envlock.inputs.settings import CompileSettings
from envlock.resolve.job import CompileEdges, CompileRequest, run_compile
from envlock.resolve.job_lock import http_index
from envlock.resolve.progress import ResolveEvent
from envlock.resolve.provider import Provider
from tests.cli.test_compile_cli import basic
from tests.kit.counting import count_calls
from tests.kit.index import KitIndex

LATER = 4_000_000_000 * 10**9
"""The fake clock's start (2096): every input file is older, so the "kept" verdict may be remembered."""


@dataclass
class RecordingSink:
    """The job's sink, recording what a CLI would draw."""

    verbosity: int = 0
    warnings: list[str] = field(default_factory=list)
    events: list[ResolveEvent] = field(default_factory=list)
    builds: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def on_event(self, event: ResolveEvent) -> None:
        self.events.append(event)

    def building(self, label: str) -> None:
        self.builds.append(label)


class CountingClients:
    """The HTTP index client factory, counting the clients it makes."""

    def __init__(self) -> None:
        self.made = 0

    @contextmanager
    def __call__(
        self, settings: IndexSettings, cache: Cache, builder: MetadataBuilder | None
    ) -> Iterator[IndexClient]:
        self.made += 1
        with http_index(Path("pylock.toml"), settings, cache, builder) as client:
            yield client


@pytest.fixture
def provider_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls of the provider hooks resolvelib makes each round."""
    return count_calls(monkeypatch, Provider, "find_matches", "is_satisfied_by", "get_preference")


def _request(index: KitIndex, verdicts: Path, **changes: Any) -> CompileRequest:
    request = CompileRequest(
        settings=CompileSettings(index_url=index.url),
        output=None,
        upgrade=False,
        upgrade_packages=(),
        python=None,
        check=False,
        reset_settings=False,
        no_default_groups=False,
        dry_run=False,
        cache_dir=verdicts,
    )
    return dataclasses.replace(request, **changes)


def _edges(tmp_path: Path, clients: CountingClients, *, clock: int = LATER) -> CompileEdges:
    return CompileEdges(
        sink=RecordingSink(), clock=lambda: clock, client=clients, cache=Cache(tmp_path / "cache")
    )


def test_a_second_run_keeps_the_lock_without_a_client_or_the_resolver(
    kit_index: KitIndex, isolated: Path, tmp_path: Path, provider_calls: Counter[str]
) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    clients = CountingClients()
    edges = _edges(tmp_path, clients)
    first = run_compile(_request(kit_index, tmp_path / "verdicts"), edges)
    assert (first.outcome, first.lock) == ("written", Path("pylock.toml"))
    assert first.message.startswith("wrote pylock.toml (2 packages, ")
    assert first.changes == ("+ alpha 2.0", "+ beta 2.1")
    assert clients.made == 1 and sum(provider_calls.values()) > 0
    assert any(event.kind == "finished" for event in edges.sink.events)  # type: ignore[attr-defined]
    written = (isolated / "pylock.toml").read_bytes()

    provider_calls.clear()
    requests = len(kit_index.requests)
    second = run_compile(_request(kit_index, tmp_path / "verdicts"), edges)
    assert second.outcome == "kept" and second.message.endswith("; inputs unchanged)")
    assert second.message.startswith("pylock.toml is up to date (2 packages, ")
    assert second.changes == () and second.text is None
    assert clients.made == 1 and sum(provider_calls.values()) == 0 and len(kit_index.requests) == requests
    assert (isolated / "pylock.toml").read_bytes() == written


def test_the_clock_decides_whether_the_verdict_is_remembered(
    kit_index: KitIndex, isolated: Path, tmp_path: Path
) -> None:
    """A file modified since the job started (by its clock) is one no remembered verdict can vouch for."""
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    early, late = tmp_path / "early", tmp_path / "late"
    run_compile(_request(kit_index, early), _edges(tmp_path, CountingClients(), clock=0))
    assert not any(path.is_file() for path in early.rglob("*"))
    assert run_compile(_request(kit_index, late), _edges(tmp_path, CountingClients())).outcome == "kept"
    assert any(path.is_file() for path in late.rglob("*"))


def test_dry_run_and_check_return_their_outcome(kit_index: KitIndex, isolated: Path, tmp_path: Path) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    clients, verdicts = CountingClients(), tmp_path / "verdicts"
    with pytest.raises(StaleLockError, match=r"pylock\.toml does not exist"):
        run_compile(_request(kit_index, verdicts, check=True), _edges(tmp_path, clients))
    printed = run_compile(_request(kit_index, verdicts, dry_run=True), _edges(tmp_path, clients))
    assert printed.outcome == "printed" and printed.text is not None and 'name = "alpha"' in printed.text
    assert not (isolated / "pylock.toml").exists()
    run_compile(_request(kit_index, verdicts), _edges(tmp_path, clients))
    fresh = run_compile(_request(kit_index, verdicts, check=True), _edges(tmp_path, clients))
    assert (fresh.outcome, fresh.message) == ("fresh", "pylock.toml is up to date with requirements.in")
    assert clients.made == 2  # --check judges offline
    (isolated / "requirements.in").write_text("alpha\nbeta<2.1\n")
    with pytest.raises(StaleLockError, match=r"requirements\.in changed since pylock\.toml was compiled"):
        run_compile(_request(kit_index, verdicts, check=True), _edges(tmp_path, clients))
