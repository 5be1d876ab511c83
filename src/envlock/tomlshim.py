"""The one place that picks the TOML reader: ``tomllib`` (Python 3.11+) or its backport ``tomli``.

Every module imports ``from envlock.tomlshim import tomllib``. The exception is the guard runtime
(``guard/stamp.py``), which is copied next to launchers and must import nothing of envlock.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]
