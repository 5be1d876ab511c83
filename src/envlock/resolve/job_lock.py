"""A compile job's resolving path: the previous lock's pins, the index client, the resolution, and the new
lock printed (``--dry-run``), found unchanged or written, with what changed."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.pylock import Pylock

from envlock.errors import LockFileError
from envlock.index.cache import Cache, default_cache_dir
from envlock.index.client import DEFAULT_INDEX, IndexClient, IndexSettings, LazyHttp
from envlock.inputs.config import ALL
from envlock.lock.lockfile import LockMetadata, dump_lock, lock_from_dict, read_lock, write_text_atomic
from envlock.output_file import write_output
from envlock.resolve.compiler import (
    CompileJob,
    UpgradePolicy,
    compile_lock,
    kept_commits,
    lock_options,
    versions_of,
)
from envlock.resolve.job import ClientFactory, CompileEdges, CompileRequest, CompileResult, CompileSink
from envlock.resolve.job_inputs import JobInputs, LockRead

if TYPE_CHECKING:
    from envlock.index.http import HttpClient
    from envlock.index.metadata import MetadataBuilder
    from envlock.resolve.sources import SourceMetadata

UNIVERSAL_HINT = "--universal: --python-version X.Y (or requires-python) sets the lowest Python it locks for"


def resolve_lock(
    request: CompileRequest, job: JobInputs, edges: CompileEdges
) -> tuple[CompileResult, LockRead | None]:
    """Resolve ``job`` and print (``--dry-run``) or write its lock; an unchanged lock is left untouched.
    Returns the result and what ``job_inputs.read_lock_text`` would read from the lock now (``DumpedLock``:
    the packages are not parsed again; None for ``--dry-run``)."""
    out, read = job.out, job.read
    previous = None
    if not request.upgrade and out.exists():  # validated from the one read (else read again for why)
        previous = lock_from_dict(read[1], source=str(out)) if read else read_lock(out)
    lock = _compile(request, job, previous, edges)
    dumped = dump_lock(lock)
    text = dumped.text
    if request.dry_run:
        return CompileResult("printed", out, "", text=text), None
    old_text = out.read_text(encoding="utf-8") if out.exists() else None
    changes = _changes(_before(previous, read, out), lock)
    summary = f"{len(lock.packages)} packages, {job.described}"
    if old_text == text:
        result = CompileResult("unchanged", out, f"{job.shown_out} is up to date ({summary})", changes)
    else:
        write_output(job.shown_out, lambda: write_text_atomic(out, text))
        result = CompileResult("written", out, f"wrote {job.shown_out} ({summary})", changes)
    return result, (text, dumped.read_back)


@contextmanager
def http_index(
    out: Path, settings: IndexSettings, cache: Cache, builder: MetadataBuilder | None
) -> Iterator[IndexClient]:
    """The index client over HTTP (made on the first request: a warm compile never imports urllib3),
    with logins for URLs that carry none from the project's named indexes, netrc or keyring."""
    # lazy: the resolving path alone reads the project's index logins
    from envlock.inputs.envlock_table import project_index_table

    lookup = project_index_table(out).credential_lookup()
    made: list[HttpClient] = []

    def client() -> HttpClient:
        # lazy: the HTTP client's module (sockets, deadlines, limits) loads only when a request needs it
        from envlock.index.http import HttpClient, HttpSettings

        made.append(HttpClient(HttpSettings(lookup=lookup)))
        return made[-1]

    try:
        yield IndexClient(LazyHttp(client), cache, settings, metadata_builder=builder)
    finally:
        for created in made:
            created.close()


def _compile(request: CompileRequest, job: JobInputs, previous: Pylock | None, edges: CompileEdges) -> Pylock:
    resolved, out, sink = job.resolved, job.out, edges.sink
    cache = edges.cache or Cache(request.cache_dir or default_cache_dir())
    factory: ClientFactory = edges.client or (lambda *args: http_index(out, *args))
    index, options = resolved.index, resolved.options
    indexes = index.indexes(DEFAULT_INDEX)
    settings = IndexSettings(
        indexes=indexes,
        find_links=index.find_links,
        pinned=index.pinned(),
        refresh=request.upgrade or bool(request.upgrade_packages),
    )

    def build_metadata(sdist: Path) -> bytes:
        # lazy: the PEP 517 builder loads only when an sdist is built
        from envlock.resolve.build_requirements import index_build_installer
        from envlock.sources.builder import prepare_metadata, show_backend_warnings

        show_backend_warnings(sink.verbosity > 0)
        sink.building(sdist.name)
        return prepare_metadata(sdist, install_requirements=index_build_installer(client))

    upgrade = UpgradePolicy(all=request.upgrade, packages=request.upgrade_packages)
    metadata = LockMetadata(
        fingerprint=resolved.fingerprint(job.settings.target),
        inputs=tuple(_relative(f, out.parent) for f in resolved.inputs.files),
        options=lock_options(indexes, job.targets),
        settings=job.recorded.to_tool(),
    )
    with factory(settings, cache, None if ALL in options.only_binary else build_metadata) as client:
        compile_job = CompileJob(
            inputs=resolved.inputs,
            targets=job.targets,
            options=options,
            metadata=metadata,
            lock_dir=out.parent if out.parent != Path() else Path.cwd(),
            previous=previous,
            upgrade=upgrade,
            sources=_LazySources(lambda: _sources(cache, client, previous, upgrade, sink)),
            # A clash may be in one of the older Pythons --universal covers by default: say how to drop them.
            failure_hint=UNIVERSAL_HINT if request.settings.universal else None,
        )
        return compile_lock(client, compile_job, client.hash_of, sink.warn, sink.on_event)


class _LazySources:
    """The source metadata reader, made when the first folder or git source is met (a dependency's
    ``name @ git+…`` too): a compile without any never imports the PEP 517 builder."""

    def __init__(self, make: Callable[[], SourceMetadata]) -> None:
        self._make = make
        self._made: SourceMetadata | None = None

    def resolve(self, source: Any) -> Any:
        if self._made is None:
            self._made = self._make()
        return self._made.resolve(source)


def _sources(
    cache: Cache, client: IndexClient, previous: Pylock | None, upgrade: UpgradePolicy, sink: CompileSink
) -> SourceMetadata:
    """Metadata of the project folders and git sources, built with build requirements from the index."""
    from envlock.resolve.sources import SourceMetadata  # lazy: only a folder or git source loads it

    def install_requirements(requirements: Any, env_python: Path) -> None:
        # lazy: the PEP 517 builder loads only when a source is built (not when its metadata is remembered)
        from envlock.resolve.build_requirements import index_build_installer

        index_build_installer(client)(requirements, env_python)

    def building(label: str) -> None:
        from envlock.sources.builder import show_backend_warnings  # lazy: loaded by the build anyway

        show_backend_warnings(sink.verbosity > 0)
        sink.building(label)

    return SourceMetadata(
        cache,
        install_requirements,
        kept_commits=kept_commits(previous, upgrade),
        on_build=building,
        refresh=upgrade.all,
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(path.resolve(), base.resolve()).replace(os.sep, "/")


def _before(previous: Pylock | None, read: LockRead | None, out: Path) -> Pylock | None:
    """The lock this compile replaces, for its change summary: ``previous``, else (``--upgrade`` does not
    keep its pins) validated from compile's one read of it, not read again; an invalid one reports every
    package as added, as no lock does."""
    if previous is not None or read is None:
        return previous
    try:
        return lock_from_dict(read[1], source=str(out))
    except LockFileError:
        return None


def _changes(previous: Pylock | None, lock: Pylock) -> tuple[str, ...]:
    """``+ name ver``, ``- name ver``, ``~ name old -> new``: what moved, by name."""
    before = versions_of(previous) if previous is not None else {}
    after = versions_of(lock)
    lines = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            lines.append(f"+ {name} {', '.join(after[name])}")
        elif name not in after:
            lines.append(f"- {name} {', '.join(before[name])}")
        elif before[name] != after[name]:
            lines.append(f"~ {name} {', '.join(before[name])} -> {', '.join(after[name])}")
    return tuple(lines)
