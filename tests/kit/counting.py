"""Work counted instead of timed: calls of a class's methods, through ``monkeypatch``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest


def count_calls(monkeypatch: pytest.MonkeyPatch, cls: type, *methods: str) -> Counter[str]:
    """Count every call of ``cls``'s ``methods`` (by method name) until ``monkeypatch`` is undone."""
    counted: Counter[str] = Counter()
    for method in methods:
        original = getattr(cls, method)

        def counting(
            self: object, *args: Any, _method: str = method, _original: Any = original, **kw: Any
        ) -> Any:
            counted[_method] += 1
            return _original(self, *args, **kw)

        monkeypatch.setattr(cls, method, counting)
    return counted
