"""Click options shared by several commands: ``--venv``, ``--lock`` (check, run, launcher, doctor), the
input table and ``--no-sync`` (add, remove)."""

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
