"""validate.relative_paths (all paths checked as one text, for the store's manifests) refuses exactly what
validate.relative_path refuses, with its message, wherever the bad value is."""

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
        for values in ([value], ["ok/x.py", value, "ok/y.py"], ["ok/x.py", value]):
            if expected is None:
                validate.relative_paths(values)
                continue
            with pytest.raises(validate.UnsafeInput) as caught:
                validate.relative_paths(values)
            assert str(caught.value) == expected, value
