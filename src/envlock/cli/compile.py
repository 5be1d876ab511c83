"""``envlock compile``: options -> CompileSettings -> inputs, target, index client -> compiler -> lock."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._files import write_output
from envlock.errors import InputError
from envlock.inputs.settings import CompileSettings

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from envlock.cli import Output
    from envlock.env.interpreter import TargetEnvironment
    from envlock.inputs.config import CompileInputs, IndexConfig, ResolverOptions, ToolSettings
    from envlock.inputs.settings import Resolved


@dataclass(frozen=True)
class CompileRequest:
    """The command line as values: the settings that shape the lock, and how this run goes."""

    settings: CompileSettings
    output: Path | None
    upgrade: bool
    upgrade_packages: tuple[str, ...]
    python: str | None
    check: bool
    reset_settings: bool
    """``--reset-settings``: the existing lock's settings are not this compile's defaults."""
    no_default_groups: bool
    """``--no-default-groups``: the dependency groups are exactly the ``--group`` ones."""
    dry_run: bool
    cache_dir: Path | None


UNIVERSAL_HINT = "--universal: --python-version X.Y (or requires-python) sets the lowest Python it locks for"
DEFAULT_SOURCES = ("requirements.in", "pyproject.toml")
"""What compile reads without SOURCES: the first of these that exists."""


@dataclass(frozen=True)
class _Reads:
    """What this compile read besides its command line, for its cached "lock kept" verdict."""

    root: Path
    resolved: Resolved
    interpreters: tuple[str, ...] | None
    """The interpreters the target came from; None when no verdict can vouch for the outcome (an
    interpreter looked up on PATH, a ``-r``/``-c`` file fetched from a URL)."""
    started_ns: int


@click.command("compile")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Lock file [pylock.toml]."
)
@click.option("--index-url", envvar="ENVLOCK_INDEX_URL", metavar="URL", help="Primary index (simple API).")
@click.option("--extra-index-url", "extra_index_urls", multiple=True, metavar="URL", help="Later index.")
@click.option("--find-links", "find_links", multiple=True, metavar="PATH|URL", help="Extra files source.")
@click.option("-U", "--upgrade", is_flag=True, help="Ignore the pins of the existing lock.")
@click.option(
    "-P", "--upgrade-package", "upgrade_packages", multiple=True, metavar="NAME[==VER]", help="Free one pin."
)
@click.option("--pre", is_flag=True, help="Allow prereleases.")
@click.option("--only-binary", "only_binary", multiple=True, metavar="NAME|:all:", help="Never use sdists.")
@click.option("--no-binary", "no_binary", multiple=True, metavar="NAME|:all:", help="Never use wheels.")
@click.option(
    "--python", metavar="PATH|NAME", help="Resolve for this interpreter (./path, or a name on PATH)."
)
@click.option(
    "--python-version", metavar="X.Y[.Z]", help="Resolve for this Python version (on --python's platform)."
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="cpXY-OS-ARCH",
    help="Resolve for this target too (repeatable): cp312-windows-amd64, cp311-linux-x86_64...",
)
@click.option(
    "--universal",
    is_flag=True,
    help="Resolve for Linux, Windows and macOS and every CPython 3.10+ (--python-version: from X.Y) of the "
    "project's requires-python.",
)
@click.option(
    "--exclude-newer", metavar="TIMESTAMP", help="Ignore files uploaded after this instant (PEP 700)."
)
@click.option("--extra", "extras", multiple=True, metavar="NAME", help="Include a pyproject extra.")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="Include a PEP 735 dependency group.")
@click.option(
    "--no-default-groups",
    is_flag=True,
    help="Only the --group groups: not the lock's, [tool.envlock]'s or the project's dev group.",
)
@click.option(
    "--reset-settings", is_flag=True, help="Do not take unset options from the settings the lock records."
)
@click.option("--check", is_flag=True, help="Exit 1 if the lock is stale for its inputs (offline).")
@click.option("--dry-run", is_flag=True, help="Print the lock instead of writing it.")
@click.option("--cache-dir", envvar="ENVLOCK_CACHE_DIR", type=click.Path(path_type=Path, file_okay=False))
@click.pass_obj
def command(output: Output, /, **params: Any) -> None:
    """Resolve SOURCES (default: requirements.in, else pyproject.toml) into a hashed PEP 751 lock.

    \b
    Exit codes: 0 written / up to date; 1 conflict, network failure or (--check) stale lock;
                2 bad input (file:line named).
    """
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    values["sources"] = tuple(str(source) for source in values["sources"])
    names = {f.name for f in dataclasses.fields(CompileSettings)} - {"target"}
    settings = CompileSettings(**{k: v for k, v in values.items() if k in names})
    run(CompileRequest(settings=settings, **{k: v for k, v in values.items() if k not in names}), output)


def run(request: CompileRequest, output: Output) -> None:
    from envlock.cli._compile_check import check
    from envlock.inputs import config
    from envlock.inputs.settings import resolve, tool_settings

    started, root = time.time_ns(), Path.cwd()
    tool = tool_settings(root)
    out = request.output or lock_path(tool)
    shown_out = config.display_path(out, root)
    read = _read_lock_text(out)
    compiled, settings, targets, interpreters = _settings(request, tool, root, (out, shown_out), read)
    fetched: list[str] = []
    resolved = resolve(settings, root, os.environ, lambda url: _fetch_text(url, fetched))
    selection = _selection(resolved.inputs, settings)
    described = _describe(targets) + (f"; {selection}" if selection else "")
    reads = _Reads(root, resolved, None if fetched else interpreters, started)
    inputs, index, options = resolved.inputs, resolved.index, resolved.options
    recorded = settings.for_lock(out.absolute().parent, root)
    if request.check:
        message = check((out, shown_out), read, resolved, (compiled, recorded), targets, root)
        message += f" ({selection})" if selection else ""
        _remember_kept(request, out, None, message, reads)
        output.info(message)
        return
    kept = _lock_kept(request, read, resolved, recorded)
    if kept is not None:
        message = _kept_line(shown_out, kept, described)
        _remember_kept(request, out, kept[1], message, reads)
        output.info(message)
        return
    from envlock.lock.lockfile import LockMetadata, lock_from_dict, read_lock
    from envlock.resolve.compiler import lock_options

    previous = None
    if not request.upgrade and out.exists():  # validated from the one read (else read again for why)
        previous = lock_from_dict(read[1], source=str(out)) if read else read_lock(out)
    from envlock.index.client import DEFAULT_INDEX

    indexes = index.indexes(DEFAULT_INDEX)
    metadata = LockMetadata(
        fingerprint=resolved.fingerprint(settings.target),
        inputs=tuple(_relative(f, out.parent) for f in inputs.files),
        options=lock_options(options, indexes, targets),
        settings=recorded.to_tool(),
    )
    lock = _compile(
        request,
        inputs,
        index,
        options,
        targets,
        metadata,
        previous,
        out,
        warn=output.warn,
        verbosity=output.verbosity,
    )
    written = _write_lock(request, output, out, shown_out, previous, lock, described)
    if written is not None and (kept := _lock_kept(request, written, resolved, recorded)):
        _remember_kept(request, out, kept[1], _kept_line(shown_out, kept, described), reads)


def lock_path(tool: ToolSettings) -> Path:
    """The lock a compile without ``-o`` writes: ``[tool.envlock]`` output (or lock), else pylock.toml."""
    return Path(tool.output or tool.lock or "pylock.toml")


def recorded_settings(out: Path, root: Path) -> CompileSettings | None:
    """The settings the lock at ``out`` records (None: no lock, or one without them); what a compile
    without flags takes as its defaults (``_settings``)."""
    from envlock.inputs import config
    from envlock.inputs.settings import recorded_in

    read = _read_lock_text(out)
    return None if read is None else recorded_in(read[1], config.display_path(out, root))


def _prime_sync(out: Path, cache_dir: Path | None) -> None:
    """The read of the new lock remembered for the plain ``envlock sync`` that usually follows
    (``selection_cache.prime``): best effort, as every cache entry; a failure costs that sync the full
    read, never this compile."""
    from envlock.errors import EnvlockError
    from envlock.inputs.envlock_table import project_defaults
    from envlock.sync.selection_cache import prime

    try:
        venv = Path(project_defaults(Path("pyproject.toml")).get("venv", ".venv"))
        prime(out, out.read_bytes(), venv, cache_dir)
    except (EnvlockError, OSError, ValueError):
        return


def _write_lock(
    request: CompileRequest,
    output: Output,
    out: Path,
    shown_out: str,
    previous: Pylock | None,
    lock: Pylock,
    described: str,
) -> tuple[str, dict[str, Any]] | None:
    """Print (--dry-run) or write the lock, saying what changed; an unchanged lock is left untouched. Its
    read is remembered for the sync that follows (``_prime_sync``). Returns what ``_read_lock_text``
    would read from it now (``DumpedLock``: the packages are not parsed again); None for --dry-run."""
    from envlock.lock.lockfile import dump_lock, write_text_atomic

    dumped = dump_lock(lock)
    text = dumped.text
    if request.dry_run:
        click.echo(text, nl=False)
        return None
    old_text = out.read_text(encoding="utf-8") if out.exists() else None
    _report_changes(output, previous if previous is not None else _maybe_read(out), lock)
    if old_text == text:
        output.info(f"{shown_out} is up to date ({len(lock.packages)} packages, {described})")
    else:
        write_output(shown_out, lambda: write_text_atomic(out, text))
        output.info(f"wrote {shown_out} ({len(lock.packages)} packages, {described})")
    _prime_sync(out, request.cache_dir)
    return text, dumped.read_back


def _compile(
    request: CompileRequest,
    inputs: CompileInputs,
    index: IndexConfig,
    options: ResolverOptions,
    targets: tuple[TargetEnvironment, ...],
    metadata: Any,
    previous: Any,
    out: Path,
    *,
    warn: Callable[[str], None],
    verbosity: int = 0,
) -> Any:
    from envlock.cli._progress import CompileProgress
    from envlock.index.cache import Cache, default_cache_dir
    from envlock.index.client import IndexClient
    from envlock.index.http import HttpClient
    from envlock.inputs.config import ALL
    from envlock.resolve.compiler import CompileJob, UpgradePolicy, compile_lock

    cache = Cache(request.cache_dir or default_cache_dir())
    http, settings = _network(request, index, out)
    progress = CompileProgress(verbosity)

    def build_metadata(sdist: Path) -> bytes:
        from envlock.resolve.builder import index_build_installer, prepare_metadata, show_backend_warnings

        show_backend_warnings(verbosity > 0)
        progress.building(sdist.name)
        return prepare_metadata(sdist, install_requirements=index_build_installer(client))

    client = IndexClient(
        http,
        cache,
        settings,
        metadata_builder=None if ALL in options.only_binary else build_metadata,
    )
    upgrade = UpgradePolicy(all=request.upgrade, packages=request.upgrade_packages)
    job = CompileJob(
        inputs=inputs,
        targets=targets,
        options=options,
        metadata=metadata,
        lock_dir=out.parent if out.parent != Path() else Path.cwd(),
        previous=previous,
        upgrade=upgrade,
        sources=_LazySources(lambda: _sources(cache, client, previous, upgrade, progress)),
        # A clash may be in one of the older Pythons --universal covers by default: say how to drop them.
        failure_hint=UNIVERSAL_HINT if request.settings.universal else None,
    )
    try:
        return compile_lock(client, job, client.hash_of, warn, progress.on_event)
    finally:
        progress.close()
        if isinstance(http.created, HttpClient):
            http.created.close()


def _network(request: CompileRequest, index: IndexConfig, out: Path) -> tuple[Any, Any]:
    """The HTTP client (made on the first request: a warm compile never imports urllib3), with logins
    for URLs that carry none from the project's named indexes, netrc or keyring; and where to look."""
    from envlock.index.client import DEFAULT_INDEX, IndexSettings, LazyHttp
    from envlock.index.http import HttpClient, HttpSettings
    from envlock.inputs.envlock_table import project_index_table

    lookup = project_index_table(out).credential_lookup()
    settings = IndexSettings(
        indexes=index.indexes(DEFAULT_INDEX),
        find_links=index.find_links,
        pinned=index.pinned(),
        refresh=request.upgrade or bool(request.upgrade_packages),
    )
    return LazyHttp(lambda: HttpClient(HttpSettings(lookup=lookup))), settings


class _LazySources:
    """The source metadata reader, made when the first folder or git source is met (a dependency's
    ``name @ git+…`` too): a compile without any never imports the PEP 517 builder."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._made: Any = None

    def resolve(self, source: Any) -> Any:
        if self._made is None:
            self._made = self._make()
        return self._made.resolve(source)


def _sources(cache: Any, client: Any, previous: Any, upgrade: Any, progress: Any) -> Any:
    """Metadata of the project folders and git sources, built with build requirements from the index."""
    from envlock.resolve.compiler import kept_commits
    from envlock.resolve.sources import SourceMetadata

    def install_requirements(requirements: Any, env_python: Path) -> None:
        # lazy: the PEP 517 builder loads only when a source is built (not when its metadata is remembered)
        from envlock.resolve.builder import index_build_installer

        index_build_installer(client)(requirements, env_python)

    def building(label: str) -> None:
        from envlock.resolve.builder import show_backend_warnings  # lazy: loaded by the build anyway

        show_backend_warnings(progress.verbosity > 0)
        progress.building(label)

    return SourceMetadata(
        cache,
        install_requirements,
        kept_commits=kept_commits(previous, upgrade),
        on_build=building,
        refresh=upgrade.all,
    )


def _settings(
    request: CompileRequest,
    tool: ToolSettings,
    root: Path,
    lock: tuple[Path, str],
    read: tuple[str, dict[str, Any]] | None,
) -> tuple[CompileSettings | None, CompileSettings, tuple[TargetEnvironment, ...], tuple[str, ...] | None]:
    """The settings the existing ``lock`` (path, as shown; ``read``: ``_read_lock_text``) was compiled
    with (None: no lock, one without them, or ``--reset-settings``); the command line's settings (its
    ``-P`` values checked) with the default source, the lock's settings for those it leaves unset, the
    default groups and the targets' identity filled in; the targets, and the interpreters they came
    from (``_targets``)."""
    from envlock.inputs.config import check_upgrade_packages
    from envlock.inputs.settings import has_dev_group, recorded_in

    check_upgrade_packages(request.upgrade_packages)
    out = lock[0]
    compiled = None if request.reset_settings or read is None else recorded_in(read[1], lock[1])
    settings = request.settings
    if compiled is not None:
        named = bool(request.python or tool.targets or tool.python_version)
        settings = settings.with_lock(compiled, out.absolute().parent, root, target_named=named)
    if not settings.sources:
        settings = dataclasses.replace(settings, sources=(str(default_source(root)),))
    if request.no_default_groups:
        settings = dataclasses.replace(settings, groups=request.settings.groups)
    elif (
        not settings.groups
        and not tool.groups
        and (request.reset_settings or not out.exists())
        and has_dev_group(settings.sources, root)
    ):  # as uv: a new lock holds the project's dev group (recorded, so later compiles keep it)
        settings = dataclasses.replace(settings, groups=("dev",))
    request = dataclasses.replace(request, settings=settings)
    from envlock.cli._compile_targets import compile_targets

    targets, identity, interpreters = compile_targets(request, tool, root)
    settings = dataclasses.replace(settings, target=identity)
    if settings.targets:  # recorded as the canonical, sorted list, however the command line gave them
        settings = dataclasses.replace(settings, targets=tuple(identity["targets"].split()))
    return compiled, settings, targets, interpreters


def _selection(inputs: CompileInputs, settings: CompileSettings) -> str:
    """``extras dev; groups dev, test`` for the result lines: what of pyproject.toml the lock holds
    (``no extras`` / ``no groups``); empty when no pyproject.toml is an input."""
    if not any(source.endswith(".toml") for source in settings.sources):
        return ""
    extras = f"extras {', '.join(inputs.extras)}" if inputs.extras else "no extras"
    groups = f"groups {', '.join(inputs.groups)}" if inputs.groups else "no groups"
    return f"{extras}; {groups}"


def default_source(root: Path) -> Path:
    for name in DEFAULT_SOURCES:
        if (root / name).is_file():
            return Path(name)
    raise InputError(
        "nothing to compile: no requirements.in or pyproject.toml in this folder",
        hint="create requirements.in, or name the input: envlock compile path/to/requirements.in",
    )


def _fetch_text(url: str, fetched: list[str]) -> str:
    """A ``-r``/``-c`` file given as a URL (credentials in it are used, never shown), noted in
    ``fetched``: no cached verdict can vouch for what a server will answer next time."""
    fetched.append(url)
    from envlock.errors import RequirementsFileError
    from envlock.index.http import HttpClient, read_limited, strip_credentials
    from envlock.inputs.config import MAX_INPUT_BYTES

    client = HttpClient()
    try:  # the same cap as a local input file
        with client.stream(url) as response:
            body = read_limited(response, MAX_INPUT_BYTES, url, "requirements file")
    finally:
        client.close()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequirementsFileError(f"{strip_credentials(url)}: cannot read: {error}") from None


def _describe(targets: tuple[TargetEnvironment, ...]) -> str:
    from envlock.env.interpreter import describe_target

    if len(targets) == 1:
        return describe_target(targets[0])
    return f"{len(targets)} targets"


def _read_lock_text(out: Path) -> tuple[str, dict[str, Any]] | None:
    """The lock at ``out`` as text and plain TOML, read once for what this compile asks of it (its
    settings, the "kept" verdict, ``--check``'s lock model); None when it is no regular file or no UTF-8
    TOML (whoever needs it then reads it again and reports why)."""
    from envlock.tomlshim import tomllib  # lazy: the lock is read as plain TOML

    try:
        if not out.is_file():  # never a FIFO's open
            return None
        text = out.read_bytes().decode("utf-8")
        return text, tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _lock_kept(
    request: CompileRequest,
    read: tuple[str, dict[str, Any]] | None,
    resolved: Resolved,
    recorded: CompileSettings,
) -> tuple[int, str] | None:
    """The number of packages of the lock ``read`` (``_read_lock_text``) and the sha256 of the bytes
    judged, when it already is what this compile would write: it records this command line's settings
    (``recorded``: as a lock records them, target included) and the fingerprint its inputs have now,
    and nothing asks for a change (``--upgrade``, ``-P``). Then the resolver, the index and the lock
    model are never loaded (issue 15); anything else: None."""
    if request.upgrade or request.upgrade_packages or request.dry_run or read is None:
        return None
    from envlock.guard.stamp import sha256_text

    text, data = read
    try:
        table = data["tool"]["envlock"]
        fingerprint, settings, packages = table["fingerprint"], table["settings"], data["packages"]
    except (KeyError, TypeError):
        return None
    if fingerprint != resolved.fingerprint(recorded.target) or settings != recorded.to_tool():
        return None
    return (len(packages), sha256_text(text)) if isinstance(packages, list) else None


def _kept_line(shown_out: str, kept: tuple[int, str], described: str) -> str:
    return f"{shown_out} is up to date ({kept[0]} packages, {described}; inputs unchanged)"


def _remember_kept(
    request: CompileRequest, out: Path, lock_sha: str | None, message: str, reads: _Reads
) -> None:
    """Cache the verdict (``inputs.kept_cache``): the lock is kept (``lock_sha``: the bytes judged), or
    ``--check`` found it fresh (None: the lock is hashed with the inputs, and must be as old), so that
    the same command, while nothing it was read from changes, is answered before click is imported."""
    if reads.interpreters is None or request.upgrade or request.upgrade_packages or request.dry_run:
        return
    from envlock.cache_dir import default_cache_path
    from envlock.inputs import kept_cache, kept_reads

    defaults = () if request.settings.sources else DEFAULT_SOURCES
    lock = str(out.absolute())
    files = kept_reads.read_files(reads.resolved, reads.root, defaults) + ([lock] if lock_sha is None else [])
    interpreters = (*reads.interpreters, sys.executable)
    variables = kept_reads.variables(reads.resolved)
    observed = kept_cache.observe(files, interpreters, variables, reads.started_ns)
    if observed is None or (lock_sha := lock_sha or observed["files"].get(lock)) is None:
        return
    values = {
        name: getattr(request.settings if hasattr(request.settings, name) else request, name)
        for name in kept_cache.REQUEST_FIELDS
    }
    key = kept_cache.request_key(values, str(reads.root), os.environ)
    folder = str(request.cache_dir) if request.cache_dir else default_cache_path()
    kept_cache.remember(key, folder, {"message": message, "lock": [lock, lock_sha], **observed})


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(path.resolve(), base.resolve()).replace(os.sep, "/")


def _maybe_read(out: Path) -> Any:
    from envlock.errors import LockFileError
    from envlock.lock.lockfile import read_lock

    if not out.exists():
        return None
    try:
        return read_lock(out)
    except LockFileError:
        return None


def _report_changes(output: Output, previous: Any, lock: Any) -> None:
    from envlock.resolve.compiler import versions_of

    before = versions_of(previous) if previous is not None else {}
    after = versions_of(lock)
    for name in sorted(set(before) | set(after)):
        if name not in before:
            output.info(f"+ {name} {', '.join(after[name])}")
        elif name not in after:
            output.info(f"- {name} {', '.join(before[name])}")
        elif before[name] != after[name]:
            output.info(f"~ {name} {', '.join(before[name])} -> {', '.join(after[name])}")
