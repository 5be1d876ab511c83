"""``envlock outdated``: each locked package whose index has a newer release, and whether the lock's
requirements allow it (``compile -P NAME`` would take it) or which of them block it. Reads the lock and
the index it was compiled against; never changes the lock."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envlock.cli._options import project_lock, table_options

if TYPE_CHECKING:
    from packaging.pylock import Pylock
    from packaging.version import Version

    from envlock.lock.outdated import Outdated, Release


@click.command("outdated")
@table_options("outdated")
def command(lock: Path | None, as_json: bool, cache_dir: Path | None) -> None:
    """List locked packages that have newer releases on the lock's indexes, and what the lock's
    requirements say about each (allowed: `envlock compile -P NAME` moves to it; else what blocks it).

    \b
    Exit codes: 0 listed (whether or not something is outdated); 1 the index cannot be read;
                2 a missing or invalid lock.
    """
    from envlock.lock.graph import lock_graph
    from envlock.lock.lockfile import lock_metadata, read_lock
    from envlock.lock.outdated import find_outdated

    path = project_lock(lock)
    parsed = read_lock(path)
    pre = lock_metadata(parsed).settings.get("pre") is True
    found = find_outdated(lock_graph(parsed), _releases(parsed, path, cache_dir), prereleases=pre)
    if as_json:
        click.echo(
            json.dumps({"lock": str(path), "outdated": [asdict(o) for o in found]}, indent=2, sort_keys=True)
        )
        return
    click.echo(
        "\n".join(_line(o) for o in found) if found else f"{path}: every package is at its newest release"
    )


def _line(item: Outdated) -> str:
    where = f" on {', '.join(item.targets)}" if item.targets else ""
    head = f"{item.name} {item.locked} -> {item.latest}{where}: "
    if not item.recorded:  # a lock without via-requirements cannot say what its requirements allow
        return head + "the lock does not record the requirements on it (envlock compile records them)"
    if not item.blocked_by:
        return head + f"allowed (envlock compile -P {item.name})"
    text = head + "blocked by " + "; ".join(item.blocked_by)
    if item.python_holds_back is not None:
        text += f"; {item.python_holds_back}"
    if item.allowed is not None:
        text += f" (envlock compile -P {item.name} takes {item.allowed})"
    return text


def _releases(lock: Pylock, path: Path, cache_dir: Path | None) -> Callable[[str, Version], list[Release]]:
    from envlock.errors import ProjectNotFoundError
    from envlock.index.cache import Cache, default_cache_dir
    from envlock.index.client import DEFAULT_INDEX, IndexClient, IndexSettings, LazyHttp
    from envlock.index.http import HttpClient
    from envlock.lock.lockfile import lock_metadata
    from envlock.lock.outdated import Release, ReleaseFile
    from envlock.sync.lock_input import recorded_indexes

    named = os.environ.get("ENVLOCK_INDEX_URL")
    links = lock_metadata(lock).settings.get("find-links")
    settings = IndexSettings(
        indexes=(named,) if named else recorded_indexes(lock) or (DEFAULT_INDEX,),
        find_links=tuple(
            link if "://" in link else str(path.parent / link)
            for link in (links if isinstance(links, list) else ())
        ),
        refresh=True,  # newer releases are the question: never trust a cached page's freshness window
    )
    client = IndexClient(LazyHttp(HttpClient), Cache(cache_dir or default_cache_dir()), settings)

    def releases(name: str, newer_than: Version) -> list[Release]:
        try:
            page = client.project(name)
        except ProjectNotFoundError:
            return []
        found = []
        for version in page.newest_first:
            if version <= newer_than:
                break  # older entries are never validated: a project may list thousands
            files = [f for f in page.files_for(version) if f.yanked is None]
            found.append(Release(version, tuple(ReleaseFile(f.requires_python, f.tags) for f in files)))
        return found

    return releases
