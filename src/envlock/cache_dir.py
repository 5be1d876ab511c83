"""Where envlock's cache lives: ``ENVLOCK_CACHE_DIR``, else the platform's user cache folder; and whether
remembered answers are used at all (``ENVLOCK_NO_MEMO``). A module of its own, standard library only, so
``envlock check`` finds its cached verdicts without loading the cache."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


NO_MEMO = "ENVLOCK_NO_MEMO"
"""Set (to anything but "" or "0"): every fast path declines and every remembered answer misses and is
not written, so the full path answers (a debugging aid; the differential tests compare the two)."""


def memo_disabled() -> bool:
    """``ENVLOCK_NO_MEMO`` is set: no fast path, no remembered answer (read or written)."""
    return os.environ.get(NO_MEMO, "") not in ("", "0")


def default_cache_path() -> str:
    """The cache folder as a string (``envlock check``'s path imports no pathlib)."""
    env = os.environ.get("ENVLOCK_CACHE_DIR")
    if env:
        return env
    # lazy: `envlock check` loads this module for its cached verdict; platformdirs (~5-10 ms to import)
    # is not needed when ENVLOCK_CACHE_DIR names the cache.
    from platformdirs import user_cache_dir

    return user_cache_dir("envlock", appauthor=False)


def likely_cache_path() -> str:
    """Where ``default_cache_path`` most likely is, without importing platformdirs: ``ENVLOCK_CACHE_DIR``,
    else on Linux the XDG rule platformdirs follows (``$XDG_CACHE_HOME`` when it is absolute, else
    ``~/.cache``). Only for a lookup that a wrong guess merely misses (the quick compile's cached
    verdict); everything is written where ``default_cache_path`` says (a test compares the two)."""
    env = os.environ.get("ENVLOCK_CACHE_DIR")
    if env or not sys.platform.startswith("linux"):
        return default_cache_path()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = xdg if xdg.startswith("/") else os.path.expanduser("~/.cache")  # noqa: PTH111
    return os.path.join(base, "envlock")  # noqa: PTH118


def default_cache_dir() -> Path:
    from pathlib import Path  # lazy: not on envlock check's path (default_cache_path)

    return Path(default_cache_path())
