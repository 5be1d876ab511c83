"""``envlock sync``: options -> SyncOptions -> ``syncer.sync`` -> summary, per-package lines, JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._options import table_options
from envlock.quick_sync import Progress, print_result
from envlock.sync.summary import ZERO_COUNTS, summary

if TYPE_CHECKING:
    from envlock.cli import Output
    from envlock.sync.syncer import SyncOptions


@click.command("sync")
@table_options("sync")
@click.pass_obj
def command(output: Output, /, **params: Any) -> None:
    """Make the venv exactly match the lock: create, patch or rebuild it, verify every hash, stamp it.

    LOCK is a PEP 751 lock (default: pylock.toml) or a hashed requirements file.
    """
    started = time.monotonic()
    defaults = _project_defaults(Path("pyproject.toml"))
    if params["into"] or params["target"] or params["into_python"]:
        _into(output, params, Path(defaults.get("lock", "pylock.toml")), started)
        return
    params["lock"] = params["lock"] or Path(defaults.get("lock", "pylock.toml"))
    params["venv"] = params["venv"] or Path(defaults.get("venv", ".venv"))
    if not params["as_json"] and _already_in_sync(params):
        # Answered before the rest of sync is imported; --json and every other case take the full path.
        output.info(summary(ZERO_COUNTS, time.monotonic() - started, dry_run=False, up_to_date=True))
        return
    from envlock.sync.syncer import SyncEdges, sync

    options = _options(params)
    progress = (
        Progress(_echo_err, live=sys.stderr.isatty())
        if not params["as_json"] and output.verbosity >= 0
        else None
    )
    try:
        edges = SyncEdges(
            progress=progress.update if progress else None,
            notice=output.warn,
            report=progress.report if progress else None,
            backend_output=output.verbosity >= 1,
        )
        result = sync(options, edges)
    finally:
        if progress:
            progress.close()
    if params["as_json"]:
        from envlock.sync.json_report import result_json

        click.echo(json.dumps(result_json(result), indent=2, sort_keys=True))
        return
    print_result(result, info=output.info, detail=output.detail)


_VENV_ONLY = (
    "venv",
    "python",
    "dry_run",
    "rebuild",
    "compile_bytecode",
    "system",
    "verify",
    "link_mode",
    "as_json",
)


def _into(output: Output, params: dict[str, Any], default_lock: Path, started: float) -> None:
    """``--target SPEC --into DIR``: one target's packages laid out in a new folder (``sync.into``)."""
    from envlock.env.targets import parse_target
    from envlock.errors import InputError
    from envlock.index.cache import Cache, default_cache_dir
    from envlock.option_table import flag_of
    from envlock.sync.into import IntoRequest, install_into
    from envlock.sync.syncer import http_client

    if not (params["into"] and params["target"]):
        raise InputError("--target and --into go together: the target to lay out, and the folder")
    clashing = [flag_of("sync", name) for name in _VENV_ONLY if params[name]]
    if clashing:
        raise InputError(f"--into makes a folder, not a venv: {', '.join(clashing)} do not apply")
    request = IntoRequest(
        lock_path=params["lock"] or default_lock,
        spec=parse_target(params["target"]),
        into=params["into"],
        extras=tuple(params["extras"]),
        groups=_groups(params),
        offline=params["offline"],
        find_links=tuple(params["find_links"]),
        python=params["into_python"],
    )
    cache = Cache(params["cache_dir"] or default_cache_dir())
    selection = install_into(request, cache, lambda: http_client(request.lock_path))
    output.info(
        f"laid out {len(selection.packages)} packages for {request.spec.text} in {request.into} "
        f"in {time.monotonic() - started:.2f}s"
    )


def _options(params: dict[str, Any]) -> SyncOptions:
    from envlock.sync.syncer import SyncOptions

    return SyncOptions(
        lock_path=params["lock"],
        venv=params["venv"],
        python=params["python"],
        extras=tuple(params["extras"]),
        groups=_groups(params),
        dry_run=params["dry_run"],
        rebuild=params["rebuild"],
        offline=params["offline"],
        find_links=tuple(params["find_links"]),
        only_binary=_only_binary(params["only_binary"]),
        compile_bytecode=params["compile_bytecode"],
        cache_dir=params["cache_dir"],
        system=params["system"],
        verify=params["verify"],
        link_mode=params["link_mode"],
    )


def _already_in_sync(params: dict[str, Any]) -> bool:
    """The stamp fast path (``envlock.sync.noop``) for a plain sync; False sends everything else, and any
    error, through the full sync, which reports it."""
    if any(params[flag] for flag in ("dry_run", "rebuild", "python", "verify", "system")):
        return False
    import hashlib

    from envlock import validate
    from envlock.sync import noop

    try:
        lock_bytes = validate.read_regular(params["lock"], validate.MAX_LOCK_BYTES)
    except (OSError, ValueError):  # the full sync reports it
        return False
    return noop.up_to_date(
        Path(params["venv"]),
        hashlib.sha256(lock_bytes).hexdigest(),
        lock_bytes,
        extras=params["extras"],
        groups=_groups(params),
        lock_path=Path(params["lock"]),
    )


def _groups(params: dict[str, Any]) -> tuple[str, ...] | None:
    """The groups to install: ``--group`` values (none with ``--no-default-groups`` alone), else None:
    the lock's ``default-groups``."""
    return tuple(params["groups"]) if params["groups"] or params["no_default_groups"] else None


def _only_binary(values: tuple[str, ...]) -> frozenset[str]:
    if not values:  # the common case: do not import packaging on the no-op path
        return frozenset()
    from envlock.lock.selection import parse_only_binary

    return parse_only_binary(values)


def _project_defaults(pyproject: Path) -> dict[str, str]:
    """``lock`` and ``venv`` from ``[tool.envlock]`` of ./pyproject.toml (shared with export, compile)."""
    if not pyproject.is_file():  # the common case: do not import envlock.inputs.config on the no-op path
        return {}
    from envlock.inputs.envlock_table import project_defaults

    return project_defaults(pyproject)


def _echo_err(text: str) -> None:
    click.echo(text, nl=False, err=True)
