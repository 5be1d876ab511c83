"""Click options shared by several commands: ``--venv``, ``--lock`` (the launch-time commands: check, run,
launcher, doctor), the lock a reading command reads (why, tree, outdated), ``--json``, and the input table
and ``--no-sync`` of the editing commands (add, remove)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])
"""A click callback (decorators return it unchanged in type)."""

DEFAULT_VENV = Path(".venv")
"""The venv the commands look at when ``--venv`` is not given."""


def venv_option(function: F) -> F:
    """``--venv PATH`` (default ``.venv``), passed as ``venv: Path``."""
    return click.option(
        "--venv",
        type=click.Path(path_type=Path),
        default=DEFAULT_VENV,
        show_default=True,
        help="The virtual environment.",
    )(function)


def lock_option(function: F) -> F:
    """``--lock PATH`` (default: the lock named by the venv's stamp), passed as ``lock: Path | None``."""
    return click.option(
        "--lock",
        type=click.Path(path_type=Path),
        default=None,
        help="The lock the venv must match. Default: the lock the venv was synced from.",
    )(function)


def venv_and_lock_options(function: F) -> F:
    """``--venv`` and ``--lock`` together (the order ``--help`` lists them in)."""
    return venv_option(lock_option(function))


def lock_file_option(function: F) -> F:
    """``--lock PATH`` for the commands that read a lock (why, tree, outdated), passed as ``lock: Path``;
    default: ``[tool.envlock] lock`` of ./pyproject.toml, else ``pylock.toml`` (``project_lock``)."""
    return click.option(
        "--lock",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The lock to read. Default: [tool.envlock] lock, else pylock.toml.",
    )(function)


def json_option(function: F) -> F:
    """``--json``, passed as ``as_json: bool``."""
    return click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")(function)


def project_lock(given: Path | None) -> Path:
    """The lock a command reads: ``given``, else ``[tool.envlock] lock``, else ``pylock.toml``."""
    if given is not None:
        return given
    from envlock.inputs.envlock_table import project_defaults

    return Path(project_defaults(Path("pyproject.toml")).get("lock", "pylock.toml"))


def edit_options(function: F) -> F:
    """``--extra NAME`` / ``--group NAME`` (the pyproject table an ``add`` / ``remove`` edits; at most
    one) and ``--no-sync``, passed as ``extra``, ``group``, ``no_sync``."""
    function = click.option("--no-sync", is_flag=True, help="Edit and compile; leave the venv alone.")(
        function
    )
    function = click.option(
        "--group", metavar="NAME", help="This PEP 735 dependency group ([dependency-groups] NAME)."
    )(function)
    return click.option(
        "--extra", metavar="NAME", help="This pyproject extra ([project.optional-dependencies] NAME)."
    )(function)
