"""The one place that picks the TOML reader: ``tomllib`` (Python 3.11+) or its backport ``tomli``, with
the nesting depth capped.

Every module imports ``from envlock.tomlshim import tomllib``. The exception is the launch runtime
(``runtime/``), which is copied next to launchers and must import nothing of envlock: its lock header reader
(``runtime/lock_header.py``) makes the same switch for itself.

The parser recurses once per level of nested arrays and inline tables, so a few kilobytes of ``[[[[...``
(a hostile lock or pyproject) raise RecursionError. Here that is a ``TOMLDecodeError`` like any other
malformed TOML, which every reader already reports as one line naming the file.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib as _toml
else:  # pragma: no cover - Python 3.10
    import tomli as _toml

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any


class NestedTooDeepError(_toml.TOMLDecodeError):  # type: ignore[misc,unused-ignore]
    """Arrays or inline tables nested deeper than the parser's stack allows."""

    def __init__(self) -> None:
        ValueError.__init__(self, "arrays or inline tables nested too deeply")


class _CappedToml:
    """``tomllib``'s ``loads``/``load``/``TOMLDecodeError``, RecursionError turned into the latter."""

    TOMLDecodeError = _toml.TOMLDecodeError

    @staticmethod
    def loads(text: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = _toml.loads(text)
        except RecursionError:
            raise NestedTooDeepError from None
        return data

    @staticmethod
    def load(handle: IO[bytes]) -> dict[str, Any]:
        try:
            data: dict[str, Any] = _toml.load(handle)
        except RecursionError:
            raise NestedTooDeepError from None
        return data


tomllib = _CappedToml()

__all__ = ["tomllib"]
