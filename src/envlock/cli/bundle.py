"""``envlock bundle``: options -> BundleRequest -> ``sync.bundle.bundle`` -> one summary line and notes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._options import table_options

if TYPE_CHECKING:
    from envlock.cli import Output
    from envlock.env.interpreter import TargetEnvironment
    from envlock.index.cache import Cache


@click.command("bundle")
@table_options("bundle")
@click.pass_obj
def command(output: Output, /, **params: Any) -> None:
    """Download and verify every file LOCK (default: pylock.toml) installs on the targets into a folder,
    for `envlock sync --find-links DIR --offline` on a machine without network.

    \b
    Exit codes: 0 bundled; 1 a problem (network, hash mismatch, a target the lock excludes);
                2 bad input (an unreadable lock, an undeclared extra/group, a bad --target).
    """
    from envlock.errors import InputError
    from envlock.index.cache import Cache, default_cache_dir
    from envlock.index.http import HttpClient
    from envlock.inputs.envlock_table import project_defaults
    from envlock.sync.bundle import BundleRequest, bundle

    started = time.monotonic()
    defaults = project_defaults(Path("pyproject.toml"))
    if params["targets"] and (params["venv"] or params["python"]):
        raise InputError("--target names the targets: --venv and --python do not apply")
    cache = Cache(params["cache_dir"] or default_cache_dir())
    venv = params["venv"] or Path(defaults.get("venv", ".venv"))
    request = BundleRequest(
        lock_path=params["lock"] or Path(defaults.get("lock", "pylock.toml")),
        output=params["output_dir"],
        targets=_targets(params["targets"], venv, params["python"], cache),
        extras=tuple(params["extras"]),
        groups=tuple(params["groups"]) if params["groups"] or params["no_default_groups"] else None,
        offline=params["offline"],
    )
    result = bundle(request, cache, HttpClient)
    for source in result.sources:
        output.warn(
            f"not bundled: {source} is a project folder or git source, not a file; the installing "
            "machine builds it from its own copy"
        )
    if result.sdists:
        output.warn(
            f"bundled as sdists, built where they are installed: {', '.join(result.sdists)} (their build "
            "requirements come from an index or that machine's cache)"
        )
    output.info(
        f"bundled {len(result.files)} files ({result.written} new) for {len(request.targets)} "
        f"target{'s' if len(request.targets) != 1 else ''} in {request.output} "
        f"in {time.monotonic() - started:.2f}s"
    )


def _targets(
    texts: tuple[str, ...], venv: Path, python: str | None, cache: Cache
) -> tuple[TargetEnvironment, ...]:
    """``--target``'s environments; without one, the interpreter a sync of ``venv`` would select for
    (``sync.target.venv_target``: the venv's, ``--python``'s, else envlock's own)."""
    import functools
    import sys

    from envlock.env import probe_cache
    from envlock.env.interpreter import environment_for, run_subprocess
    from envlock.env.targets import parse_targets, target_environment
    from envlock.sync.target import venv_target

    if texts:
        return tuple(target_environment(spec) for spec in parse_targets(texts, "--target"))
    prober = functools.partial(
        probe_cache.cached_probe, runner=run_subprocess, memo=cache.memo(probe_cache.AREA)
    )
    target = venv_target(venv.absolute(), python, rebuild=False, default_python=sys.executable, prober=prober)
    return (environment_for(target.info),)
