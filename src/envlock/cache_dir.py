"""Where envlock's cache lives: ``ENVLOCK_CACHE_DIR``, else the platform's user cache folder. A module of
its own, standard library only, so ``envlock check`` finds its cached verdicts without loading the cache."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def default_cache_path() -> str:
    """The cache folder as a string (``envlock check``'s path imports no pathlib)."""
    env = os.environ.get("ENVLOCK_CACHE_DIR")
    if env:
        return env
    # lazy: `envlock check` loads this module for its cached verdict; platformdirs (~5-10 ms to import)
    # is not needed when ENVLOCK_CACHE_DIR names the cache.
    from platformdirs import user_cache_dir

    return user_cache_dir("envlock", appauthor=False)


def default_cache_dir() -> Path:
    from pathlib import Path  # lazy: not on envlock check's path (default_cache_path)

    return Path(default_cache_path())
