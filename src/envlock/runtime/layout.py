# ruff: noqa: PTH100, PTH110, PTH118, PTH119, PTH120
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""The venv's ``.envlock/`` layout and the venv facts read without starting its Python: the venv-python
rule, pyvenv.cfg, the base interpreter (standard library only: part of the launchers' runtime).

Layout inside a venv::

    <venv>/.envlock/stamp.json          the stamp (atomic: tmp + fsync + os.replace)
    <venv>/.envlock/sync-in-progress    present from the start of a sync until its stamp is written
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing, pathlib and dataclasses (import time)
    from typing import TypeAlias

    StrPath: TypeAlias = "str | os.PathLike[str]"

STAMP_FORMAT = 1
"""Version of the stamp's JSON layout; a reader refuses (as drift) any other value."""

# The venv's state layout, owned here (the runtime every launcher carries) and imported by the rest.
STATE_DIR = ".envlock"
"""envlock's folder inside a venv (or a --system prefix)."""
STAMP_NAME = "stamp.json"
MARKER_NAME = "sync-in-progress"
LOCK_NAME = "lock"
"""The file lock two syncs of one venv take in turn."""
JOURNAL_NAME = "journal"
"""A sync's journal of every path it is about to write or stash (crash recovery)."""
STASH_NAME = "stash"
"""Files a sync moved aside, restored on rollback."""
TMP_NAME = "tmp"
"""Staging of dist-info folders before their rename into place."""
SYNC_LEFTOVERS = (JOURNAL_NAME, STASH_NAME, TMP_NAME)
"""What only a killed sync leaves in the state folder."""
SIBLING_MARK = ".envlock-"
"""Folders and files beside a venv (``.<venv>.envlock-new-*``, ``-old-*``, ``-swap.json``) carry this."""


def state_dir(venv: StrPath) -> str:
    """``<venv>/.envlock``: envlock's folder inside a venv."""
    return os.path.join(os.fspath(venv), STATE_DIR)


def stamp_path(venv: StrPath) -> str:
    return os.path.join(os.fspath(venv), STATE_DIR, STAMP_NAME)


def marker_path(venv: StrPath) -> str:
    return os.path.join(os.fspath(venv), STATE_DIR, MARKER_NAME)


def swap_journal_path(venv: StrPath) -> str:
    """``.<name>.envlock-swap.json`` beside the venv: a rebuild is swapping it (envlock.env.venvs)."""
    return os.path.join(os.path.dirname(os.path.abspath(venv)), sibling_prefix(venv) + "swap.json")


def venv_python(venv: StrPath) -> str:
    """The interpreter of a venv, by layout: ``Scripts/python.exe`` on Windows (or a Windows-layout venv
    elsewhere), else ``bin/python``. The one venv-python path rule."""
    root = os.fspath(venv)
    scripts = os.path.join(root, "Scripts")
    if os.name == "nt" or (os.path.isdir(scripts) and not os.path.isdir(os.path.join(root, "bin"))):  # noqa: PTH112
        return os.path.join(scripts, "python.exe")
    return os.path.join(root, "bin", "python")


def sibling_prefix(venv: StrPath) -> str:
    """``.<name>.envlock-``: the name prefix of everything a rebuild puts beside ``venv``."""
    return f".{os.path.basename(os.path.abspath(venv))}{SIBLING_MARK}"


def read_pyvenv_cfg(venv: StrPath) -> dict[str, str]:
    """The key = value pairs of ``<venv>/pyvenv.cfg`` (empty when there is none)."""
    values: dict[str, str] = {}
    try:
        with open(os.path.join(os.fspath(venv), "pyvenv.cfg"), encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def base_interpreter(venv: StrPath, python: StrPath) -> str:
    """The real interpreter binary behind a venv's python (a symlink on POSIX, a copy on Windows)."""
    resolved = os.path.realpath(python)
    real_venv = os.path.realpath(venv)
    try:
        inside = os.path.commonpath([resolved, real_venv]) == real_venv
    except ValueError:
        inside = False
    home = read_pyvenv_cfg(venv).get("home")
    if inside and home:  # a copied interpreter (Windows): the base interpreter is the one in `home`
        candidate = os.path.join(home, os.path.basename(os.fspath(python)))
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return resolved
