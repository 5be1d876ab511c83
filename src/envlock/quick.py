"""The ``envlock`` entry point, and the answers it gives before click or the rest of envlock is imported:
a ``sync`` whose stamp proves the venv already is the lock, and ``check``. Standard library,
``option_table``, ``runtime``, ``sync.noop`` and ``inputs.fresh_cache`` only.

The command lines answered here are a strict subset of what the click commands accept: anything else (help,
an option this parser does not know, a repeated or empty value, ``--``, ``--json`` on a sync) goes to the
click CLI unchanged, which does the work and reports any error. A plain sync that has work to do runs to
the end without click (``quick_sync``), once its answer here has been ruled out."""

from __future__ import annotations

import os
import sys
import time

from envlock import option_table

TYPE_CHECKING = False
if TYPE_CHECKING:  # check's answer imports no typing, pathlib or urllib (validate): milliseconds each
    from collections.abc import Callable, Sequence

    Answer = int | None | Callable[[], int]
    """An exit code, None (click's path), or work whose exit code ends the process (run unguarded)."""


def link_modes() -> tuple[str, ...]:
    """``--link-mode`` choices (``envlock.sync.link.LinkMode``; a test keeps them equal)."""
    return next(o.choices for o in option_table.options("sync") if o.dest == "link_mode")


def compile_fields() -> dict[str, tuple[str, str]]:
    """The compile options answered here, by flag: (parser kind, parameter name)."""
    return option_table.quick_spec("compile")[0]


_GLOBAL = {flag: dest for flag, (_kind, dest) in option_table.quick_spec("envlock")[0].items()}
"""The options each quick answer parses (kind and parameter name, by flag; the table's ``quick``
column) and how many positional arguments it takes: anything else goes to click. Compile's ``-U``,
``-P`` and ``--dry-run`` always take click's path."""
_UNSET: dict[str, object] = {"multi": (), "flag": False, "value": None}

Parsed = dict[str, "str | bool | list[str]"]


def main() -> None:
    """``envlock``: the quick answer when there is one, else the click CLI."""
    code = answer(sys.argv[1:])
    if code is not None:
        sys.stdout.flush()
        sys.exit(code)
    from envlock.cli import main as cli_main  # lazy: the quick answers never load click

    cli_main()


def answer(argv: Sequence[str]) -> int | None:
    """The exit code of ``envlock ARGV`` when it is answered here, None to let click handle it."""
    verbosity = 0
    index = 0
    while index < len(argv) and argv[index] in _GLOBAL:
        verbosity = -100 if _GLOBAL[argv[index]] == "quiet" else verbosity + 1
        index += 1
    if index >= len(argv):
        return None
    handlers: dict[str, Callable[[Parsed, list[str], int], Answer]] = {
        "sync": _sync,
        "check": _check,
        "compile": _compile,
    }
    run = handlers.get(argv[index])
    if run is None:
        return None
    from envlock.cache_dir import memo_disabled  # lazy: only the commands answered here ask (stdlib)

    if memo_disabled():  # ENVLOCK_NO_MEMO: the full path answers
        return None
    spec, positionals = option_table.quick_spec(argv[index])
    parsed = parse(argv[index + 1 :], {flag: kind for flag, (kind, _dest) in spec.items()})
    if parsed is None:
        return None
    found, rest = parsed
    if len(rest) > positionals:
        return None
    try:
        outcome = run(found, rest, max(verbosity, -1))
    except (OSError, ValueError, LookupError, TypeError, AttributeError):  # click's path reports it
        return None
    # Work handed back runs outside that guard: a failing sync must not run again through click.
    return outcome() if callable(outcome) else outcome


def parse(args: Sequence[str], spec: dict[str, str]) -> tuple[Parsed, list[str]] | None:
    """Options (``--name value``, ``--name=value``, flags) and positional arguments, or None for
    anything not in ``spec`` or not plain (an empty value, a repeated single option, ``--``)."""
    found: Parsed = {}
    positional: list[str] = []
    items = iter(args)
    for arg in items:
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        name, has_value, value = arg.partition("=")
        kind = spec.get(name)
        # click reads "-o=x" as the value "=x": only long options take "=VALUE" here
        if kind is None or (has_value and (kind == "flag" or not name.startswith("--"))):
            return None
        if kind == "flag":
            found[name] = True
            continue
        if not has_value:
            value = next(items, "")
        if not value or value.startswith("-"):
            return None
        if kind == "multi":
            listed = found.setdefault(name, [])
            assert isinstance(listed, list)
            listed.append(value)
        elif name in found:
            return None
        else:
            found[name] = value
    if any(not p for p in positional):
        return None
    return found, positional


def _sync(found: Parsed, positional: list[str], verbosity: int) -> Answer:
    """A plain ``sync``: when the venv's stamp proves it is the lock, the summary line and exit 0; else the
    sync itself, handed back to run without click (``quick_sync``)."""
    # lazy: the sync answer's own modules (validate's file reader, the no-op judge), not check's; plain
    # strings throughout: pathlib costs this answer more than its own work
    from envlock.regular_file import MAX_LOCK_BYTES, read_regular  # validate's, without re
    from envlock.runtime import sha256_bytes
    from envlock.sync import noop
    from envlock.sync.summary import ZERO_COUNTS, summary

    started = time.monotonic()
    link_mode = found.get("--link-mode")
    cache_dir = found.get("--cache-dir")
    if (link_mode is not None and link_mode not in link_modes()) or (
        isinstance(cache_dir, str) and os.path.isfile(cache_dir)  # noqa: PTH113
    ):
        return None
    defaults = _project_defaults("pyproject.toml")
    if defaults is None:
        return None
    lock = positional[0] if positional else defaults.get("lock", "pylock.toml")
    venv = str(found.get("--venv") or defaults.get("venv", ".venv"))
    lock_bytes = read_regular(lock, MAX_LOCK_BYTES)
    extras, groups = found.get("--extra") or [], found.get("--group") or None
    assert isinstance(extras, list) and (groups is None or isinstance(groups, list))
    sha = sha256_bytes(lock_bytes)
    if not noop.up_to_date(venv, sha, lock_bytes, extras=extras, groups=groups, lock_path=lock):
        from functools import partial  # lazy: only a sync with work to do

        from envlock import quick_sync  # lazy: the sync engine, after the no-op answer

        assert (cache_dir is None or isinstance(cache_dir, str)) and not isinstance(link_mode, (bool, list))
        return partial(
            quick_sync.run,
            lock,
            venv,
            extras=extras,
            groups=groups,
            cache_dir=cache_dir,
            link_mode=link_mode,
            verbosity=verbosity,
        )
    if verbosity >= 0:
        print(summary(ZERO_COUNTS, time.monotonic() - started, dry_run=False, up_to_date=True))
    return 0


def _project_defaults(pyproject: str) -> dict[str, str] | None:
    """``lock`` and ``venv`` of ``[tool.envlock]`` in ./pyproject.toml ({} without one); None when it is
    anything but plain (click's path reads it again and reports the problem)."""
    if not os.path.isfile(pyproject):  # noqa: PTH113
        return {}
    from envlock.tomlshim import tomllib  # lazy: only projects with a pyproject.toml

    with open(pyproject, "rb") as handle:
        tool = tomllib.load(handle).get("tool", {})
    table = tool.get("envlock", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        return None
    found = {key: table[key] for key in ("lock", "venv") if key in table}
    if not all(isinstance(value, str) for value in found.values()):
        return None
    folder = os.path.dirname(pyproject)  # noqa: PTH120
    return {key: os.path.join(folder, value) for key, value in found.items()}  # noqa: PTH118


def _check(found: Parsed, _positional: list[str], verbosity: int) -> int:
    """``envlock check``: silent exit 0, the JSON document, or every drift and its fix (exit 1)."""
    # lazy: after the cheap refusals
    from envlock.inputs import fresh_cache  # the check guard.launch_check names, without the guard package
    from envlock.runtime import drift

    venv = str(found.get("--venv") or ".venv")
    lock = found.get("--lock")
    result = fresh_cache.run_check(venv, lock if isinstance(lock, str) else None, deep="--deep" in found)
    if "--json" in found:
        import json  # lazy: only check --json prints JSON (json imports re: milliseconds)

        print(json.dumps(result.as_dict(), indent=2, sort_keys=True, ensure_ascii=False))
        return 0 if result.ok else 1
    if not result.ok:
        from envlock.errors import DriftError, render  # lazy: only a drifted venv's report

        message, hint = fresh_cache.drift_message(result, str(venv))
        error = DriftError(message, hint=hint)
        sys.stderr.write(render(error))
        return error.exit_code
    if verbosity >= 1:
        print(drift.report_lines(result, label=str(venv))[0])
    return 0


def _compile(found: Parsed, positional: list[str], verbosity: int) -> int | None:
    """``envlock compile`` whose cached "lock kept" verdict still holds (``inputs.kept_cache``): the
    line the full compile prints, exit 0. The request is built as click builds it (paths through
    ``Path``, ``--index-url`` / ``--cache-dir`` from their environment variables when not given)."""
    from envlock.inputs import kept_cache  # lazy: only compile's answer loads it

    fields = compile_fields()
    single = [field for flag, (kind, field) in fields.items() if flag in found and kind != "multi"]
    if len(single) != len(set(single)):  # one option under both its spellings (-o and --output)
        return None
    values: dict[str, object] = {"sources": [click_path(source) for source in positional]}
    for flag, (kind, field) in fields.items():
        if flag in found or field not in values:
            values[field] = found.get(flag, _UNSET[kind])
    if isinstance(values["output"], str):
        values["output"] = click_path(values["output"])
    for row in option_table.options("compile"):  # click's envvar: read when the option is not given
        if row.envvar and row.quick:
            values[row.dest] = values[row.dest] or os.environ.get(row.envvar) or None
    given = values.pop("cache_dir")
    key = kept_cache.request_key(values, os.getcwd(), os.environ)  # noqa: PTH109 - no pathlib here
    if isinstance(given, str) and given:
        message = kept_cache.recall(key, click_path(given))
    else:
        from envlock import cache_dir  # lazy: only without a cache folder named

        message = kept_cache.recall(key, cache_dir.likely_cache_path())
        # A miss there loads platformdirs, which click's path would load anyway.
        if message is None and cache_dir.default_cache_path() != cache_dir.likely_cache_path():
            message = kept_cache.recall(key, cache_dir.default_cache_path())
    if message is None:
        return None
    if verbosity >= 0:
        print(message)
    return 0


def click_path(text: str) -> str:
    """``str(Path(text))``: what click's ``Path`` type hands a command (``./a//b/`` -> ``a/b``), without
    importing pathlib on POSIX (tests compare it with pathlib)."""
    if os.name == "nt":
        from pathlib import Path  # lazy: Windows paths have drives and two separators

        return str(Path(text))
    # POSIX keeps a leading "//" (implementation-defined), any other run of leading slashes is "/"
    root = "/" if text.startswith("/") else ""
    if text.startswith("//") and not text.startswith("///"):
        root = "//"
    parts = [part for part in text.split("/") if part not in ("", ".")]
    return root + "/".join(parts) if root or parts else "."
