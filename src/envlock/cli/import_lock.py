"""``envlock import``: a pip-tools hashed requirements file -> a PEP 751 lock (artifacts from the index)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._options import table_options
from envlock.output_file import write_output

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from envlock.cli import Output
    from envlock.index.pages import DistFile
    from envlock.lock.requirements_lock import RequirementsLock


@click.command("import")
@table_options("import")
@click.pass_obj
def command(output: Output, /, **params: Any) -> None:
    """Turn REQUIREMENTS (a pip-compile --generate-hashes output) into a PEP 751 lock.

    \b
    Exit codes: 0 written; 1 network failure; 2 bad input (an unpinned or unhashed line,
                a hash no file of that version has — file:line named).
    """
    from envlock.lock.lockfile import write_lock

    source: Path = params["requirements"]
    out: Path = params["output"] or Path("pylock.toml")
    lock = _import(source, params["index_url"], params["cache_dir"])
    write_output(str(out), lambda: write_lock(out, lock))
    output.info(f"wrote {out} ({len(lock.packages)} packages from {source})")


def _import(source: Path, index_url: str | None, cache_dir: Path | None) -> Pylock:
    from envlock.index.cache import Cache, default_cache_dir
    from envlock.index.client import DEFAULT_INDEX, IndexClient, IndexSettings
    from envlock.index.http import HttpClient
    from envlock.lock import importer
    from envlock.lock.requirements_lock import read

    text = read(source)  # a regular file of bounded size, else an input error naming it
    parsed = importer.parse(source, text)
    primary = index_url or parsed.index_url or os.environ.get("ENVLOCK_INDEX_URL") or DEFAULT_INDEX
    settings = IndexSettings(
        indexes=tuple(dict.fromkeys((primary, *parsed.extra_index_urls))), find_links=parsed.find_links
    )
    client = IndexClient(HttpClient(), Cache(cache_dir or default_cache_dir()), settings)

    def lookup(_parsed: RequirementsLock, name: str, version: str) -> Sequence[DistFile]:
        return client.files(name, version)

    return importer.import_requirements(source, text, lookup, indexes=client.indexes)
