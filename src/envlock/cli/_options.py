"""Click's options made from the option table (``envlock.option_table``: every command's options declared
once), and the lock a reading command reads when ``--lock`` is not given."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from envlock.option_table import Option, options, output_options

F = TypeVar("F", bound=Callable[..., object])
"""A click callback (decorators return it unchanged in type)."""


def table_options(command: str) -> Callable[[F], F]:
    """Every option and positional argument the table declares for ``command``, in its order (the
    order ``--help`` lists them in), as click decorators."""

    def apply(function: F) -> F:
        given_after = output_options(command)
        if given_after:
            function = _output_given_after(function)
        for option in reversed((*options(command), *given_after)):
            function = _decorator(option)(function)
        return function

    return apply


def _output_given_after(function: F) -> F:
    """``function`` taking -v/-q given after the command (``envlock compile -q``) as the group's: they
    change the output object's verbosity (``cli.Output``), not the callback's parameters."""

    @functools.wraps(function)
    def wrapper(*args: Any, verbose: int = 0, quiet: bool = False, **kwargs: Any) -> object:
        output = click.get_current_context().find_root().obj
        if output is not None and (verbose or quiet):
            output.verbosity = -1 if quiet else max(output.verbosity, 0) + verbose
        return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _decorator(option: Option) -> Callable[[F], F]:
    kind = option.kind
    if kind in ("argument", "arguments"):
        return click.argument(
            option.dest,
            nargs=-1 if kind == "arguments" else 1,
            required=option.required,
            type=click_type(option),
            metavar=option.metavar,
        )
    settings: dict[str, Any] = {
        "type": click_type(option),
        "multiple": kind == "multi",
        "envvar": option.envvar,
        "metavar": option.metavar,
        "help": option.help,
        "required": option.required,
    }
    if option.show_default:
        settings["show_default"] = True
    if option.default is not None:
        settings["default"] = Path(option.default) if _is_path(option) else option.default
    if kind in ("flag", "count"):
        # only ever True: click >= 8.2 reads an explicit is_flag=False as "the value is optional", so a
        # value option given last with no value would pass None instead of being refused
        settings[{"flag": "is_flag", "count": "count"}[kind]] = True
        del settings["type"]
    return click.option(*option.flags, option.dest, **settings)


def _is_path(option: Option) -> bool:
    return option.type in ("path", "file", "dir", "existing-dir")


def click_type(option: Option) -> click.ParamType[Any] | None:
    """The click type of ``option``'s values (None: text)."""
    if option.kind == "choice":
        return click.Choice(list(option.choices))
    types: dict[str, click.ParamType[Any] | None] = {
        "text": None,
        "path": click.Path(path_type=Path),
        "file": click.Path(path_type=Path, dir_okay=False),
        "dir": click.Path(path_type=Path, file_okay=False),
        "existing-dir": click.Path(path_type=Path, exists=True, file_okay=False),
        "natural": click.IntRange(min=0),
        "raw": click.UNPROCESSED,
    }
    return types[option.type]


def project_lock(given: Path | None) -> Path:
    """The lock a command reads: ``given``, else ``[tool.envlock] lock``, else ``pylock.toml``."""
    if given is not None:
        return given
    from envlock.inputs.envlock_table import project_defaults

    return Path(project_defaults(Path("pyproject.toml")).get("lock", "pylock.toml"))
