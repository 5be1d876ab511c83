"""A project's versions judged for one target, each once, and its candidates yielded lazily from that.

A version's facts (which files may go into the lock: yanked, ``--only-binary`` / ``--no-binary``; which
the target can use: Requires-Python, wheel tags; the file its metadata is read from) depend only on the
page and the target, so they are computed the first time the resolver reaches that version and reused by
every later question. Candidates come newest first from a generator, so a question answered by the
newest version never looks at the other 2,500 (botocore); see docs/compile.md for the prerelease order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from envlock.errors import ResolutionError
from envlock.index.pages import DistFile, ProjectPage
from envlock.resolve.models import Candidate, ResolveRequest
from envlock.resolve.version_ranges import AdmittedVersions

PRERELEASE_REASON = "a prerelease (allow with --pre)"
TOO_NEW_REASON = "uploaded after --exclude-newer"


@dataclass(frozen=True)
class VersionFacts:
    """What one version of a project offers the target."""

    lockable: tuple[DistFile, ...]
    """Files that may go into the lock (not yanked unless pinned; allowed by the binary rules)."""
    best: DistFile | None
    """The file metadata is read from (best wheel for the target, else the sdist); None: no candidate."""
    reason: str | None
    """Why the version is not a candidate (None when it is one)."""


@dataclass(frozen=True)
class Query:
    """One ``find_matches`` question about a project."""

    page: ProjectPage
    specifiers: Sequence[SpecifierSet]
    excluded: frozenset[Version]
    """Versions resolvelib already found incompatible."""
    extras: frozenset[str]
    path: tuple[str, ...]
    preferred: Version | None
    explicit_pre: bool
    """A specifier names a prerelease (prereleases allowed, finals still tried first)."""


class CandidateFinder:
    """Per target: version facts memoized by (project, version), candidates yielded lazily."""

    def __init__(
        self, request: ResolveRequest, yank_ok: Mapping[str, set[Version]], *, prereleases_last: bool = False
    ) -> None:
        self._request = request
        self._prereleases_last = prereleases_last
        """Offer the prereleases a specifier admits after its finals even when finals exist (the
        resolver's second pass, ``resolve.resolver``): used only once every such final was ruled out."""
        self.held_back = False
        """A question's finals were all tried and a prerelease it admits was not offered: a second pass
        with ``prereleases_last`` may resolve what this one could not."""
        self._python = Version(request.target.python_full_version)
        self._rank = request.target.tag_rank
        self._yank_ok = yank_ok
        self._facts: dict[tuple[str, Version], VersionFacts] = {}
        self._python_ok: dict[str, bool] = {}
        self._admitted = AdmittedVersions()
        self.judged = 0
        """Versions whose facts were computed (each at most once; tests and ``-v`` read it)."""
        self.excluded: dict[str, dict[Version, str]] = {}
        """Why versions were not candidates (for 'no matching version' messages)."""

    def facts(self, page: ProjectPage, version: Version) -> VersionFacts:
        key = (page.name, version)
        known = self._facts.get(key)
        if known is None:
            cutoff = self._request.options.exclude_newer
            if cutoff is not None and page.uploaded_after(version, cutoff):
                known = VersionFacts((), None, TOO_NEW_REASON)  # without validating its entries
            else:
                known = self._judge(page.name, page.files_for(version), version)
            self._facts[key] = known  # a race with a prefetch thread computes the same value twice
            self.judged += 1
        return known

    def candidate(
        self, page: ProjectPage, version: Version, extras: frozenset[str], path: tuple[str, ...]
    ) -> Candidate | None:
        facts = self.facts(page, version)
        if facts.best is None:
            self.excluded.setdefault(page.name, {})[version] = facts.reason or ""
            return None
        return Candidate(
            name=page.name,
            version=version,
            extras=extras,
            files=facts.lockable,
            metadata_file=facts.best,
            index=page.index,
            path=path,
        )

    def matches(self, query: Query) -> Callable[[], Iterator[Candidate]]:
        """A factory of fresh iterators over the query's candidates (resolvelib may iterate twice)."""
        return lambda: self._iterate(query)

    def _iterate(self, query: Query) -> Iterator[Candidate]:
        if self._request.options.pre:
            yield from self._made(query, self._wanted(query))
            return
        found = skipped = False
        reasons = self.excluded.setdefault(query.page.name, {})
        for version in self._wanted(query):
            if version.is_prerelease:
                reasons.setdefault(version, PRERELEASE_REASON)
                skipped = True
                continue
            candidate = self.candidate(query.page, version, query.extras, query.path)
            if candidate is not None:
                found = True
                yield candidate
        if found and not query.explicit_pre and not self._prereleases_last:
            self.held_back = self.held_back or skipped
            return
        # Prereleases, after every final: a specifier names one, no final release is usable, or (second
        # pass) every final the resolver was offered here was ruled out.
        for version in self._wanted(query):
            if version.is_prerelease:
                reasons.pop(version, None)
                candidate = self.candidate(query.page, version, query.extras, query.path)
                if candidate is not None:
                    yield candidate

    def _wanted(self, query: Query) -> Iterator[Version]:
        """The versions the query's specifiers admit, newest first, the preferred pin first: the
        fewest admitted by one specifier (memoized, by bisection), filtered by the others."""
        page = query.page
        admitted = [self._admitted.admitted(page.name, page.ascending, s) for s in query.specifiers]
        if not admitted:
            admitted = [(page.newest_first, page.version_set)]
        admitted.sort(key=lambda found: len(found[0]))
        shortest, others = admitted[0][0], [found[1] for found in admitted[1:]]
        preferred = query.preferred
        if preferred is not None and preferred not in admitted[0][1]:
            preferred = None
        if preferred is not None and preferred not in query.excluded and all(preferred in o for o in others):
            yield preferred
        for version in shortest:
            if version != preferred and version not in query.excluded and all(version in o for o in others):
                yield version

    def any_usable(self, page: ProjectPage, specifiers: Sequence[SpecifierSet]) -> bool:
        """Does any version satisfy every specifier and offer the target a file, prereleases included
        (whatever the prerelease policy, none of them could ever be a candidate when this is False)?"""
        query = Query(page, specifiers, frozenset(), frozenset(), (), None, explicit_pre=True)
        return any(self.facts(page, version).best is not None for version in self._wanted(query))

    def _made(self, query: Query, versions: Iterable[Version]) -> Iterator[Candidate]:
        for version in versions:
            candidate = self.candidate(query.page, version, query.extras, query.path)
            if candidate is not None:
                yield candidate

    def _judge(self, name: NormalizedName, files: Sequence[DistFile], version: Version) -> VersionFacts:
        options = self._request.options
        if options.exclude_newer is not None:
            files = self._uploaded_in_time(name, files, options.exclude_newer)
            if not files:
                return VersionFacts((), None, TOO_NEW_REASON)
        yank_ok = version in self._yank_ok.get(name, set())
        lockable = tuple(
            f
            for f in files
            if (f.yanked is None or yank_ok)
            and (options.allows_wheel(name) if f.is_wheel else options.allows_sdist(name))
        )
        usable = [f for f in lockable if self.python_ok(f) and (not f.is_wheel or self._tags_ok(f))]
        if not usable:
            return VersionFacts(lockable, None, self._reason(files, lockable))
        wheels = sorted(
            (f for f in usable if f.is_wheel),
            key=lambda f: (min(self._rank.get(t, 1 << 30) for t in f.tags), f.filename),
        )
        sdists = sorted((f for f in usable if not f.is_wheel), key=lambda f: f.filename)
        return VersionFacts(lockable, wheels[0] if wheels else sdists[0], None)

    @staticmethod
    def _uploaded_in_time(name: str, files: Sequence[DistFile], cutoff: datetime) -> Sequence[DistFile]:
        """The files uploaded at or before ``cutoff``, and those of a local find-links folder (the user's
        own: they have no upload time); any other file without an upload time cannot be judged."""
        kept = []
        for file in files:
            if file.index is None and file.is_local:
                kept.append(file)
            elif file.upload_time is None:
                where = file.index or "find-links"
                raise ResolutionError(
                    f"--exclude-newer: {where} gives no upload time for {file.filename} ({name})",
                    hint="--exclude-newer needs an index that serves PEP 700 upload-time (its JSON API)",
                )
            elif file.upload_time <= cutoff:
                kept.append(file)
        return kept

    def _reason(self, files: Sequence[DistFile], lockable: Sequence[DistFile]) -> str:
        if files and all(f.yanked is not None for f in files):
            return "yanked"
        if not lockable:
            return "excluded by --only-binary/--no-binary"
        if not any(self.python_ok(f) for f in lockable):
            needs = sorted({f.requires_python or "" for f in lockable} - {""})
            return f"requires Python {', '.join(needs)}"
        return "no wheel for this platform and no sdist"

    def python_ok(self, file: DistFile) -> bool:
        """Does the file's Requires-Python admit the target?"""
        return self.admits_python(file.requires_python)

    def admits_python(self, text: str | None) -> bool:
        """Does a Requires-Python value admit the target (each distinct value parsed once)? An invalid
        one is ignored, as pip does."""
        if not text:
            return True
        known = self._python_ok.get(text)
        if known is None:
            try:
                known = SpecifierSet(text).contains(self._python, prereleases=True)
            except InvalidSpecifier:
                known = True
            self._python_ok[text] = known
        return known

    def _tags_ok(self, file: DistFile) -> bool:
        return any(tag in self._rank for tag in file.tags)
