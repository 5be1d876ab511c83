"""validate.relative_paths (one search per path, for the store's manifests) refuses exactly what
validate.relative_path refuses, with its message."""

from __future__ import annotations

import itertools

import pytest

from envlock import validate

PIECES = ["a", "..", ".", "", "/", "\\", "C:", "c:x", "\x00", "\n", "\t", "\x7f", "é", "...", "a..b", ".a"]
CASES = sorted({"".join(parts) for n in (1, 2, 3) for parts in itertools.product(PIECES, repeat=n)})


def refused(value: str) -> str | None:
    try:
        validate.relative_path(value)
    except validate.UnsafeInput as error:
        return str(error)
    return None


def test_relative_paths_agrees_with_relative_path() -> None:
    assert len(CASES) > 3000
    for value in CASES:
        expected = refused(value)
        if expected is None:
            validate.relative_paths(["ok/x.py", value, "ok/y.py"])
            continue
        with pytest.raises(validate.UnsafeInput) as caught:
            validate.relative_paths(["ok/x.py", value, "ok/y.py"])
        assert str(caught.value) == expected, value
